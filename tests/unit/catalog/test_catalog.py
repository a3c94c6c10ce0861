"""The packaged catalog and its validation.

The corpus test reads ../shared/corpus (Policy texts: Open Terms Archive GenAI collection, ODC-By 1.0).
"""

import copy
import json
from importlib import resources
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup

from policywatch.catalog import (
    DOCUMENT_TYPES,
    FILTERS,
    CatalogError,
    Document,
    document_id,
    load_packaged,
    parse_catalog,
    parse_catalog_json,
    validate_platform,
)
from tests.helpers.corpus import CORPUS, corpus_page

LAUNCH_PLATFORMS = {
    "anthropic",
    "openai",
    "google",
    "microsoft-copilot",
    "meta-ai",
    "mistral",
    "xai",
    "deepseek",
    "perplexity",
    "midjourney",
    "character-ai",
    "writer",
    "stability-ai",
    "github-copilot",
}

# The product brief's starting facts: (platform, document type, URL without scheme, www., query or trailing slash).
REQUIRED = [
    ("anthropic", "Privacy Policy", "anthropic.com/legal/privacy"),
    ("anthropic", "Terms of Service", "anthropic.com/legal/consumer-terms"),
    ("anthropic", "Acceptable Use Policy", "anthropic.com/legal/aup"),
    ("openai", "Privacy Policy", "openai.com/policies/row-privacy-policy"),
    ("openai", "Terms of Service", "openai.com/policies/terms-of-use"),
    ("openai", "Acceptable Use Policy", "openai.com/policies/usage-policies"),
    ("google", "Privacy Policy", "policies.google.com/privacy"),
    ("google", "Terms of Service", "policies.google.com/terms"),
    ("google", "Acceptable Use Policy", "policies.google.com/terms/generative-ai/use-policy"),
    ("microsoft-copilot", "Privacy Policy", "privacy.microsoft.com/en-us/privacystatement"),
    ("midjourney", "Terms of Service", "docs.midjourney.com/docs/terms-of-service"),
    ("midjourney", "Privacy Policy", "docs.midjourney.com/docs/privacy-policy"),
    ("perplexity", "Privacy Policy", "perplexity.ai/hub/legal/privacy-policy"),
    ("perplexity", "Terms of Service", "perplexity.ai/hub/legal/terms-of-service"),
    # mistral.ai/terms/ is now a hub linking each document's own page (corpus snapshot 2026-08-21).
    ("mistral", "Privacy Policy", "legal.mistral.ai/terms/privacy-policy"),
    ("mistral", "Terms of Service", "legal.mistral.ai/terms/row-consumer-terms"),
    ("xai", "Privacy Policy", "x.ai/legal/privacy-policy"),
    ("xai", "Terms of Service", "x.ai/legal/terms-of-service"),
    ("deepseek", "Privacy Policy", "cdn.deepseek.com/policies/en-US/deepseek-privacy-policy.html"),
    ("deepseek", "Terms of Service", "cdn.deepseek.com/policies/en-US/deepseek-terms-of-use.html"),
    ("stability-ai", "Privacy Policy", "stability.ai/privacy-policy"),
    ("stability-ai", "Terms of Service", "stability.ai/terms-of-service"),
    ("stability-ai", "Acceptable Use Policy", "stability.ai/use-policy"),
    ("github-copilot", "Privacy Policy", "docs.github.com/en/site-policy/privacy-policies/github-privacy-statement"),
]

# Pages that only render with scripts (Open Terms Archive's facts): every document of these platforms needs a browser.
BROWSER_ONLY = {"openai", "perplexity", "deepseek", "stability-ai"}
# The 21 documents declared `browser` before the catalog grew: they stay browser documents (the
# headless renderer is built for them), even where the facts now say plain HTTP would do (Mistral, xAI).
BROWSER_DOCUMENTS = {
    *(
        f"{p}/{d}"
        for p in ("openai", "perplexity", "stability-ai", "xai")
        for d in ("privacy-policy", "terms-of-service", "acceptable-use-policy")
    ),
    *(f"mistral/{d}" for d in ("privacy-policy", "terms-of-service", "acceptable-use-policy")),
    "deepseek/privacy-policy",
    "deepseek/terms-of-service",
    "meta-ai/privacy-policy",
    "meta-ai/terms-of-service",
    "microsoft-copilot/terms-of-service",
    "microsoft-copilot/acceptable-use-policy",
}
# Platforms Open Terms Archive tracks no terms of service for: a privacy policy only.
PRIVACY_POLICY_ONLY = {"tandem-health"}

# Open Terms Archive service name in the corpus -> catalog platform id.
CORPUS_SERVICES = {
    "Claude.ai": "anthropic",
    "ChatGPT": "openai",
    "Midjourney": "midjourney",
    "Perplexity": "perplexity",
    "Le Chat": "mistral",
    "DeepSeek": "deepseek",
    "Grok": "xai",
    "Microsoft Copilot": "microsoft-copilot",
    "Google Generative AI Services": "google",
}
# Snapshots whose recorded selectors match nothing any more: the catalog declares a working one instead.
BROKEN_IN_CORPUS = {("Grok", "Terms of Service")}
# Snapshots of a page the document has left: mistral.ai/terms/ became a hub of links to one page
# per document; the catalog declares those pages (tests/unit/catalog/test_collection.py checks the links).
MOVED_IN_CORPUS = {("Le Chat", "Privacy Policy")}


def _bare(url: str) -> str:
    parts = urlsplit(url)
    return (parts.netloc.removeprefix("www.") + parts.path).rstrip("/")


def _declaration(**documents_and_fields) -> dict:
    decl = {
        "id": "x",
        "name": "X",
        "operator": "X Inc.",
        "documents": [{"type": "Privacy Policy", "pages": [{"url": "https://x.example/privacy", "select": ["main"]}]}],
    }
    decl.update(documents_and_fields)
    return decl


# ---------------------------------------------------------------- the shipped catalog


def test_packaged_catalog_is_valid_and_covers_the_launch_platforms():
    catalog = load_packaged()
    assert set(catalog.platform_ids()) >= LAUNCH_PLATFORMS
    assert len(catalog.platforms) >= 45
    assert len(catalog.documents()) >= 130
    for platform in catalog.platforms:
        types = {d.type for d in platform.documents}
        expected = {"Privacy Policy"} if platform.id in PRIVACY_POLICY_ONLY else {"Privacy Policy", "Terms of Service"}
        assert expected <= types, platform.id
        assert platform.homepage and platform.homepage.startswith("https://"), platform.id


def test_each_file_is_named_after_its_platform():
    folder = resources.files("policywatch.catalog").joinpath("platforms")
    files = [entry for entry in folder.iterdir() if entry.name.endswith(".json")]
    assert sorted(entry.name.removesuffix(".json") for entry in files) == load_packaged().platform_ids()
    for entry in files:
        assert json.loads(entry.read_text())["id"] == entry.name.removesuffix(".json")


@pytest.mark.parametrize(("platform", "doc_type", "url"), REQUIRED)
def test_the_briefs_urls_are_declared(platform, doc_type, url):
    doc = next(d for d in load_packaged().platform(platform).documents if d.type == doc_type)
    assert url in {_bare(page.url) for page in doc.pages}


def test_every_document_type_is_an_open_terms_archive_name():
    # @opentermsarchive/terms-types 2.2.0 (termsTypes.json): 44 names.
    assert len(DOCUMENT_TYPES) == 44
    assert {"Terms of Service", "Privacy Policy", "Acceptable Use Policy", "Data Processor Agreement"} <= set(
        DOCUMENT_TYPES
    )
    for doc in load_packaged().documents():
        assert doc.type in DOCUMENT_TYPES, doc.key
        assert set(doc.filters) <= set(FILTERS), doc.key
        assert all(page.url.startswith("https://") for page in doc.pages), doc.key


def test_the_filter_names_are_the_extractors():
    from policywatch.fetch.extraction import html as extract

    assert FILTERS == ("drop-link-targets", "drop-query-strings")
    assert set(getattr(extract, "FILTERS", FILTERS)) == set(FILTERS)


def test_script_rendered_platforms_need_a_browser():
    catalog = load_packaged()
    for platform in BROWSER_ONLY:
        assert {d.render for d in catalog.platform(platform).documents} == {"browser"}, platform
    renders = {d.key: d.render for d in catalog.documents()}
    assert {key: renders.get(key) for key in BROWSER_DOCUMENTS} == dict.fromkeys(BROWSER_DOCUMENTS, "browser")
    assert catalog.platform("anthropic").documents[0].render == "http"


def test_link_churn_filters_are_declared():
    catalog = load_packaged()
    # Google rewrites its links with the requester's locale (?hl=&gl=): not evidence, drop it.
    assert all("drop-query-strings" in d.filters for d in catalog.platform("google").documents)
    # Anthropic's rotating redirect tokens are left to the noise rules: the archive keeps the links.
    assert catalog.platform("anthropic").documents[0].filters == ()


def test_document_identity():
    assert document_id("Privacy Policy") == "privacy-policy"
    assert document_id("In-App Purchases Policy") == "in-app-purchases-policy"
    doc = load_packaged().platform("anthropic").documents[0]
    assert doc.key == "anthropic/privacy-policy"
    assert len({document_id(t) for t in DOCUMENT_TYPES}) == len(DOCUMENT_TYPES)


def test_corpus_snapshots_use_the_catalogs_selectors():
    """Each snapshot's Open Terms Archive selectors are the catalog's for that document (they are known to work)."""
    index = json.loads((CORPUS / "snapshots" / "index.json").read_text())
    catalog = load_packaged()
    checked = 0
    for entry in index:
        platform = catalog.platform(CORPUS_SERVICES[entry["service"]])
        doc = next((d for d in platform.documents if d.type == entry["document_type"]), None)
        if doc is None:
            continue
        pages = [p for p in doc.pages if _bare(p.url) == _bare(entry["url"])] or list(doc.pages[:1])
        page = pages[0]
        if (entry["service"], entry["document_type"]) in MOVED_IN_CORPUS:
            html = BeautifulSoup(corpus_page(entry["file"].removeprefix("snapshots/")), "html.parser")
            assert not any(html.select(s) for s in entry["select"]), "the corpus selector works again"
            assert all(_bare(p.url) != _bare(entry["url"]) for p in doc.pages), doc.key
        elif (entry["service"], entry["document_type"]) in BROKEN_IN_CORPUS:
            html = BeautifulSoup(corpus_page(entry["file"].removeprefix("snapshots/")), "html.parser")
            assert not any(html.select(s) for s in entry["select"]), "the corpus selector works again"
            assert any(html.select(s) for s in page.select), doc.key
        else:
            assert (list(page.select), list(page.remove)) == (entry["select"], entry["remove"]), doc.key
        checked += 1
    assert checked == len(index)


# ---------------------------------------------------------------- validation


def test_every_error_names_the_source_and_field():
    bad = {
        "id": "Bad Id",
        "name": "",
        "operator": "x",
        "homepage": "http://x.example",
        "documents": [{"type": "Privacy Policy", "pages": [{"url": "ftp://x", "select": []}]}],
    }
    with pytest.raises(CatalogError) as caught:
        parse_catalog([("platforms/bad.json", bad)])
    message = str(caught.value)
    assert "platforms/bad.json: id:" in message
    assert "platforms/bad.json: name:" in message
    assert "platforms/bad.json: homepage: 'http://x.example' is not an https:// URL" in message
    assert "platforms/bad.json: documents[0].pages[0].url:" in message
    assert "platforms/bad.json: documents[0].pages[0].select:" in message


def _pages(*pages) -> list[dict]:
    return [{"type": "Privacy Policy", "pages": list(pages)}]


@pytest.mark.parametrize(
    ("documents", "expected"),
    [
        pytest.param(
            _pages(
                {"url": "https://x.example/p", "select": ["main"]}, {"url": "https://x.example/q", "select": ["div["]}
            ),
            "documents[0].pages[1].select[0]: invalid CSS selector 'div[': Malformed attribute selector",
            id="invalid-selector",
        ),
        pytest.param(
            _pages({"url": "https://x.example/p", "select": ["main"], "remove": ["nav", "::before"]}),
            "documents[0].pages[0].remove[1]: invalid CSS selector '::before':",
            id="invalid-remove-selector",
        ),
        pytest.param(
            [
                {
                    "type": "Privacy Policy",
                    "filters": ["drop-links"],
                    "pages": [{"url": "https://x.example/p", "select": ["main"]}],
                }
            ],
            "documents[0].filters[0]: unknown filter 'drop-links' (known: drop-link-targets, drop-query-strings)",
            id="unknown-filter",
        ),
        pytest.param(
            [
                {
                    "type": "Privacy Policy",
                    "filters": ["drop-query-strings", "drop-query-strings"],
                    "pages": [{"url": "https://x.example/p", "select": ["main"]}],
                }
            ],
            'documents[0].filters: "drop-query-strings" listed more than once',
            id="repeated-filter",
        ),
        pytest.param(
            _pages(
                {"url": "https://x.example/p", "select": ["main"]},
                {"url": "https://x.example/p", "select": ["article"]},
            ),
            "documents[0].pages[1].url: page 'https://x.example/p' is declared twice in this document (also pages[0])",
            id="duplicate-url",
        ),
        pytest.param(
            _pages({"url": "http://x.example/p", "select": ["main"]}),
            "documents[0].pages[0].url: 'http://x.example/p' is not an https:// URL",
            id="http-url",
        ),
        pytest.param(
            [{"type": "Terms of Use", "pages": [{"url": "https://x.example/p", "select": ["main"]}]}],
            "documents[0].type: 'Terms of Use' is not an Open Terms Archive document type",
            id="unknown-type",
        ),
        pytest.param(
            [{"type": "Privacy policy", "pages": [{"url": "https://x.example/p", "select": ["main"]}]}],
            "did you mean 'Privacy Policy'?",
            id="type-suggestion",
        ),
        pytest.param(
            _pages({"select": ["main"]}),
            "documents[0].pages[0].url: required field is missing",
            id="missing-url",
        ),
        pytest.param(
            [{"pages": [{"url": "https://x.example/p", "select": ["main"]}]}],
            "documents[0].type: required field is missing",
            id="missing-type",
        ),
        pytest.param(
            [{"type": "Privacy Policy", "filter": [], "pages": [{"url": "https://x.example/p", "select": ["main"]}]}],
            "documents[0].filter: unknown field (allowed: type, render, filters, pages); did you mean 'filters'?",
            id="unknown-field",
        ),
        pytest.param(
            [{"type": "Privacy Policy", "render": "js", "pages": [{"url": "https://x.example/p", "select": ["main"]}]}],
            "documents[0].render: 'js' is not a render mode (known: http, browser)",
            id="unknown-render",
        ),
        pytest.param(
            _pages({"url": "https://x.example/p", "select": ["main"]}) * 2,
            "documents[1].type: document type 'Privacy Policy' is declared twice (also documents[0])",
            id="duplicate-document",
        ),
    ],
)
def test_invalid_declarations_name_the_file_and_field(documents, expected):
    with pytest.raises(CatalogError) as caught:
        parse_catalog([("platforms/x.json", _declaration(documents=documents))])
    lines = str(caught.value).splitlines()
    assert all(line.startswith("platforms/x.json: ") for line in lines)
    assert any(expected in line for line in lines), lines


def test_a_missing_top_level_field_is_named():
    decl = _declaration()
    del decl["operator"]
    assert validate_platform(decl, "platforms/x.json") == ["platforms/x.json: operator: required field is missing"]


def test_every_problem_is_reported_at_once():
    decl = _declaration(
        documents=[
            {"type": "Privacy Policy", "pages": [{"url": "http://x.example/p", "select": ["div["]}]},
            {"type": "Nope", "pages": [{"url": "https://x.example/p", "select": ["main"]}]},
        ]
    )
    problems = validate_platform(decl, "platforms/x.json")
    assert [p.split(": ")[1] for p in problems] == [
        "documents[0].pages[0].select[0]",
        "documents[0].pages[0].url",
        "documents[1].type",
    ]


def test_a_page_declared_twice_ignores_the_fragment_but_not_across_documents():
    same_page = _pages(
        {"url": "https://x.example/p", "select": ["main"]}, {"url": "https://x.example/p#a", "select": ["a"]}
    )
    assert "declared twice" in validate_platform(_declaration(documents=same_page), "x")[0]
    one_page_many_documents = [
        {"type": "Privacy Policy", "pages": [{"url": "https://x.example/terms/", "select": ["#privacy-policy"]}]},
        {"type": "Terms of Service", "pages": [{"url": "https://x.example/terms/", "select": ["#terms"]}]},
    ]
    assert validate_platform(_declaration(documents=one_page_many_documents), "x") == []


def test_loopback_http_is_allowed_for_local_stacks():
    # devstack's demo site and the integration tests serve pages on http://127.0.0.1.
    for url in ("http://127.0.0.1:8766/anthropic/legal/privacy.html", "http://localhost:1/p"):
        assert validate_platform(_declaration(documents=_pages({"url": url, "select": ["main"]})), "x") == []


def test_duplicate_platforms_are_refused():
    decl = _declaration()
    with pytest.raises(CatalogError, match="already declared in one.json"):
        parse_catalog([("one.json", decl), ("two.json", decl)])


def test_override_format():
    decl = {
        "id": "a",
        "name": "A",
        "operator": "A",
        "homepage": "https://a.example/",
        "documents": [{"type": "Privacy Policy", "pages": [{"url": "http://127.0.0.1:1/p", "select": ["main"]}]}],
    }
    catalog = parse_catalog_json(json.dumps({"platforms": [decl]}), "override")
    assert catalog.platform_ids() == ["a"]
    assert catalog.platform("a").homepage == "https://a.example/"
    with pytest.raises(CatalogError, match="override: not valid JSON"):
        parse_catalog_json("{", "override")
    with pytest.raises(CatalogError, match="'platforms' list"):
        parse_catalog_json("[]", "override")
    broken = copy.deepcopy(decl)
    broken["documents"][0]["filters"] = ["nope"]
    with pytest.raises(CatalogError, match=r"^override#platforms\[0\]: documents\[0\]\.filters\[0\]: unknown filter"):
        parse_catalog_json(json.dumps({"platforms": [broken]}), "override")


# ---------------------------------------------------------------- fetch jobs


def test_filters_travel_with_the_fetch_job():
    doc = load_packaged().platform("google").documents[0]
    job = doc.to_dict()
    assert job["filters"] == ["drop-query-strings"]
    assert Document.from_job(json.dumps(job)) == doc
    plain = next(d for d in load_packaged().documents() if not d.filters)
    assert plain.to_dict()["filters"] == []
    assert Document.from_job(json.dumps(plain.to_dict())) == plain


def test_a_job_without_filters_is_still_accepted():
    job = {"platform": "a", "type": "Privacy Policy", "pages": [{"url": "https://a.example/p", "select": ["main"]}]}
    doc = Document.from_job(json.dumps(job))
    assert (doc.render, doc.filters) == ("http", ())
    with pytest.raises(CatalogError, match="malformed fetch job"):
        Document.from_job(json.dumps({**job, "filters": None}))
