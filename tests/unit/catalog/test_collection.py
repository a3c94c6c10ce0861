"""The packaged catalog against Open Terms Archive's GenAI collection.

Reads ../shared/corpus: ``catalog-facts.json`` (where each document of the collection lives, the
selectors Open Terms Archive cuts it out with, whether it runs the page's scripts) and the raw
page snapshots. Facts and policy texts: Open Terms Archive GenAI collection, ODC-By 1.0
(Open Terms Archive contributors). The catalog's declarations are our own, checked against them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import soupsieve
from bs4 import BeautifulSoup

from policywatch.catalog import RENDER_MODES, load_packaged
from policywatch.fetch.extraction.html import html_to_markdown
from tests.helpers.corpus import CORPUS, corpus_page, snapshot_index

# Open Terms Archive service name (catalog-facts.json) -> catalog platform id.
SERVICES = {
    "Airon": "airon",
    "Bardeen": "bardeen",
    "Berget AI": "berget-ai",
    "Bolt.new": "bolt-new",
    "ChatGPT": "openai",
    "Civitai": "civitai",
    "Claude.ai": "anthropic",
    "Codeium": "codeium",
    "Copy.AI": "copy-ai",
    "Cursor": "cursor",
    "DeepSeek": "deepseek",
    "豆包": "doubao",
    "Fireworks AI": "fireworks-ai",
    "GitHub Copilot": "github-copilot",
    "Google Generative AI Services": "google",
    "Grok": "xai",
    "Incredible": "incredible",
    "Intric": "intric",
    "Jasper": "jasper",
    "Kimi": "kimi",
    "Le Chat": "mistral",
    "Liquid AI": "liquid-ai",
    "Llama API": "llama-api",
    "Lovable": "lovable",
    "Microsoft Copilot": "microsoft-copilot",
    "Midjourney": "midjourney",
    "Murf": "murf",
    "Nous Research chat": "nous-research",
    "OpenRouter": "openrouter",
    "Perplexity": "perplexity",
    "Pirr": "pirr",
    "Qwen Chat": "qwen",
    "Rephrase.ai": "rephrase-ai",
    "Replicate": "replicate",
    "Replit": "replit",
    "SOUNDRAW": "soundraw",
    "SambaNova Systems": "sambanova",
    "Sana": "sana",
    "Scribe": "scribe",
    "Speechify": "speechify",
    "Stability AI": "stability-ai",
    "Tandem Health": "tandem-health",
    "Tempo Labs": "tempo-labs",
    "Together AI": "together-ai",
    "文心一言": "ernie-bot",
    "Wordtune": "wordtune",
    "fal": "fal",
}

# Pages on a snapshot's host that are not built like the snapshotted page: mistral.ai/legal/ is
# the main site's imprint, mistral.ai/terms/ (the snapshot) redirects to the Legal Center app.
OTHER_LAYOUT = {"https://mistral.ai/legal/"}


def _facts() -> list[dict[str, Any]]:
    path = CORPUS / "catalog-facts.json"
    if not path.exists():
        pytest.fail(f"{path} is missing: the tests need ../shared beside the project")
    return json.loads(path.read_text())


def _bare(url: str) -> str:
    parts = urlsplit(url)
    return (parts.netloc.removeprefix("www.") + parts.path).rstrip("/")


def _host(url: str) -> str:
    return urlsplit(url).netloc.removeprefix("www.")


def test_the_catalog_tracks_every_service_and_document_of_the_collection():
    catalog = load_packaged()
    facts = _facts()
    assert {fact["service"] for fact in facts} == set(SERVICES)
    missing = [
        f"{fact['service']}: {fact['document_type']}"
        for fact in facts
        if fact["document_type"] not in {d.type for d in catalog.platform(SERVICES[fact["service"]]).documents}
    ]
    assert missing == []
    assert len(catalog.platforms) >= 45
    assert len(catalog.documents()) >= 130


def test_every_document_has_a_fetch_path():
    documents = load_packaged().documents()
    assert {doc.render for doc in documents} == set(RENDER_MODES) == {"http", "browser"}
    for doc in documents:
        assert doc.pages, doc.key
        for page in doc.pages:
            assert page.url.startswith("https://") and urlsplit(page.url).hostname, doc.key
            assert page.select and all(page.select), doc.key


def test_every_selector_compiles_and_runs():
    empty = BeautifulSoup("<html><body><main></main></body></html>", "html.parser")
    checked = 0
    for doc in load_packaged().documents():
        for page in doc.pages:
            for selector in (*page.select, *page.remove):
                soupsieve.compile(selector)
                assert isinstance(empty.select(selector), list), (doc.key, selector)
                checked += 1
    assert checked > 200


def test_pages_that_need_scripts_are_browser_documents():
    declared = defaultdict(list)
    for doc in load_packaged().documents():
        for page in doc.pages:
            declared[_bare(page.url)].append(doc)
    scripted = [_bare(page["url"]) for fact in _facts() for page in fact["pages"] if page["browser"]]
    assert len(scripted) > 60
    wrong = sorted({doc.key for url in scripted for doc in declared[url] if doc.render != "browser"})
    assert wrong == []


def _snapshot_checks() -> list[Any]:
    """One check per (snapshot, select, remove): every catalog page on a snapshotted host."""
    documents: dict[tuple[str, tuple[str, ...], tuple[str, ...]], set[str]] = defaultdict(set)
    index = snapshot_index()
    catalog = load_packaged()
    for entry in index:
        for doc in catalog.documents():
            for page in doc.pages:
                if _host(page.url) == _host(entry["url"]) and page.url not in OTHER_LAYOUT:
                    documents[(entry["file"], page.select, page.remove)].add(doc.key)
    return [
        pytest.param(file, select, remove, id=f"{file.removeprefix('snapshots/')}:{','.join(sorted(keys))}")
        for (file, select, remove), keys in sorted(documents.items())
    ]


@pytest.mark.parametrize(("file", "select", "remove"), _snapshot_checks())
def test_declared_selectors_cut_the_policy_out_of_the_corpus_snapshots(file, select, remove):
    """The page itself or, for the other documents of its site, a page built the same way."""
    text = html_to_markdown(corpus_page(file.removeprefix("snapshots/")), select, remove)
    assert len(text) > 1000


def test_mistral_declares_the_pages_its_legal_centre_links_to():
    hub = BeautifulSoup(corpus_page("le-chat/privacy-policy/2026-08-21.html"), "lxml")
    # The single page of sections the catalog used to cut up is gone...
    assert not hub.select("#privacy-policy, #terms-of-service, #usage-policy, #cookie-policy")
    # ... for a hub (served from legal.mistral.ai) linking one page per document.
    links = {urljoin("https://legal.mistral.ai/terms/", str(a["href"])) for a in hub.select("a[href]")}
    pages = [
        page
        for doc in load_packaged().platform("mistral").documents
        for page in doc.pages
        if urlsplit(page.url).hostname == "legal.mistral.ai"
    ]
    assert len(pages) >= 8
    assert {page.url for page in pages} <= links
    for page in pages:  # the Legal Center's layout: the title and date in a header, the text below
        assert all(hub.select(selector) for selector in page.select), page.url
