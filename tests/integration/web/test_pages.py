"""The site's HTML pages through the web function, on real histories diffed into moto by the pipeline's code.

Claude's privacy policy (first 12 versions), ChatGPT's (20) and Midjourney's terms (21), as Open
Terms Archive recorded them (ODC-By 1.0), loaded once for the module by ``tests/helpers/site.py``.
Pages are read as a person reads them (BeautifulSoup): the one <h1>, the landmarks, the words
shown; and a crawler follows every link of ours from the home page and finds each one answers.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from bs4 import BeautifulSoup

from functions.web import web_handler
from policywatch.core.links import Links
from policywatch.storage.documents import DocumentState, DocumentStates
from policywatch.web import views
from policywatch.web.pages import ARCHIVED_CACHE, COMPARE_CACHE, PAGE_CACHE, PRIVATE, STATIC_CACHE
from policywatch.web.site import Site
from tests.helpers.notify import subscribe
from tests.helpers.paths import EVENTS
from tests.helpers.site import CHATGPT, CLAUDE, MIDJOURNEY, archive_version, load_history, site_stack

BASE = "https://policywatch.test"
SAMPLE = json.loads((EVENTS / "web.json").read_text())
CLAUDE_TRAINING = "2025-08-29T003202.000Z"  # Claude's training change: high, worse, effective 28 September 2025
CHATGPT_LINK = "2024-07-19T183008.000Z"  # ChatGPT's privacy policy: one link retargeted, nothing else
CHATGPT_HINTS = "2025-07-31T120659.000Z"  # ChatGPT's privacy policy: "(opens in a new window)" dropped from its links
MIDJOURNEY_LINKS = "2026-01-08T190633.000Z"  # Midjourney's terms: 13 links gone from headings and an image
MIDJOURNEY_LOCALIZATION = "2026-07-15T190747.000Z"  # a section added (a passage of 600+ characters), one renumbered
HOSTILE = "midjourney/community-guidelines"
ATTACK = '<script>alert("pw")</script> <img src=x onerror=alert(1)> [click](javascript:alert(2)) https://evil.test/x'


@pytest.fixture(scope="module")
def histories() -> Iterator[None]:
    """One moto stack for the module with the histories loaded (loading is the slow part), a
    document whose fetches fail, and a document whose new version carries markup and a script."""
    with site_stack(BASE) as topic:
        load_history(CLAUDE, topic, last=12)
        load_history(CHATGPT, topic)
        load_history(MIDJOURNEY, topic)
        _hostile_version(topic)
        DocumentStates("documents").put(
            DocumentState(
                "openai/privacy-policy", consecutive_failures=4, last_error="HTTP 403: a bot wall <b>here</b>"
            )
        )
        yield


def _hostile_version(topic_arn: str) -> None:
    """Midjourney's community guidelines, then the same with a passage of markup, a script and links added."""
    text = "# Community Guidelines\n\nBe kind and respectful to others and staff.\n"
    meta = {
        "source-url": "https://docs.midjourney.com/hc/en-us/articles/community-guidelines",
        "document-type": "Community Guidelines",
    }
    for day, body in ((1, text), (2, text + f"\nWe may share your prompts: {ATTACK}\n")):
        archive_version(HOSTILE, datetime(2026, 3, day, 7, tzinfo=UTC), body, meta, topic_arn)


def call(path: str, context, query: dict[str, str] | None = None) -> dict:
    """The web function's answer to a GET of ``path``."""
    event = copy.deepcopy(SAMPLE)
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = "GET"
    event["queryStringParameters"] = query or None
    event["rawQueryString"] = urlencode(query or {})
    event["headers"] = {"host": "policywatch.test"}
    event["body"] = ""
    return web_handler.handler(event, context)


def read(path: str, context, query: dict[str, str] | None = None, status: int = 200) -> BeautifulSoup:
    """A page as a reader gets it: its status and type checked, parsed."""
    response = call(path, context, query)
    assert response["statusCode"] == status, (path, query, response["body"][:400])
    assert response["headers"]["Content-Type"] == "text/html; charset=utf-8"
    return BeautifulSoup(response["body"], "html.parser")


def shown(soup: BeautifulSoup) -> str:
    """The words of the page's main content, as one line."""
    main = soup.find("main")
    assert main is not None
    return " ".join(main.get_text(" ").split())


def site() -> Site:
    return web_handler._site()


def stamps(platform: str, document: str, kind: str | None = None) -> list[str]:
    found = site().document(platform, document)
    assert found is not None
    return [c["stamp"] for c in found["changes"] if kind is None or c["kind"] == kind]


# -- what every page has --


PAGES = [
    "/",
    "/platforms/midjourney",
    "/timeline/model-training",
    "/provisions",
    "/provisions/model-training",
    "/documents/anthropic/privacy-policy",
    f"/documents/anthropic/privacy-policy/versions/{CLAUDE_TRAINING}",
    f"/changes/anthropic/privacy-policy/{CLAUDE_TRAINING}",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_one_h1_the_landmarks_a_skip_link_its_feed_and_the_attribution(histories, context, path):
    soup = read(path, context)
    assert len(soup.find_all("h1")) == 1
    for landmark in ("header", "nav", "main", "footer"):
        assert soup.find(landmark) is not None, landmark
    skip = soup.find("a", class_="skip")
    assert skip["href"] == "#main" and soup.find("main")["id"] == "main"
    assert soup.title.get_text().endswith(" · policywatch") and len(soup.title.get_text()) > 20
    assert [a.get_text() for a in soup.select("header nav a")] == [
        "Home",
        "Provisions",
        "Feeds and API",
        "Subscribe",
        "Manage",
    ]
    feed = soup.find("link", rel="alternate", type="application/atom+xml")
    assert feed is not None and feed["href"].startswith("/feeds/") and feed["href"].endswith(".atom")
    assert "Open Terms Archive (ODC-By 1.0)" in " ".join(soup.find("footer").get_text().split())
    assert [s["src"] for s in soup.find_all("script")] == ["/static/site.js"]  # no inline script: the CSP forbids it
    assert soup.find("link", rel="stylesheet")["href"] == "/static/site.css"
    assert not soup.find_all(style=re.compile("color"))  # colours come from the stylesheet, each with a word


def test_pages_are_cached_as_their_content_allows(histories, context):
    assert call("/", context)["headers"]["Cache-Control"] == PAGE_CACHE
    older, newest = stamps("midjourney", "terms-of-service")[0], stamps("midjourney", "terms-of-service")[-1]
    version = "/documents/midjourney/terms-of-service/versions/"
    assert call(version + older, context)["headers"]["Cache-Control"] == ARCHIVED_CACHE  # it has a successor
    assert call(version + newest, context)["headers"]["Cache-Control"] == PAGE_CACHE  # its "next" is still to come
    pair = {"from": older, "to": newest}
    compared = call("/documents/midjourney/terms-of-service/compare", context, pair)
    assert compared["headers"]["Cache-Control"] == COMPARE_CACHE  # two archived versions: a day at the edge
    css, js = call("/static/site.css", context), call("/static/site.js", context)
    assert css["headers"]["Content-Type"].startswith("text/css") and css["headers"]["Cache-Control"] == STATIC_CACHE
    assert js["headers"]["Content-Type"].startswith("text/javascript") and "tl-status" in js["body"]


# -- home --


def test_home_shows_the_platforms_health_and_the_latest_substantive_changes(histories, context):
    soup = read("/", context)
    platforms = {a.get_text(): a["href"] for a in soup.select("table.platforms th a")}
    assert platforms["Midjourney"] == "/platforms/midjourney" and len(platforms) == len(site().platforms())
    openai = soup.find("a", href="/platforms/openai").find_parent("tr")
    assert "Failing" in openai.get_text() and "HTTP 403: a bot wall <b>here</b>" in openai.get_text()  # as text
    assert openai.find("b") is None
    latest, _ = site().changes(limit=views.HOME_CHANGES)
    items = soup.select("ol.changes > li")
    assert len(items) == len(latest)
    for item, change in zip(items, latest, strict=True):
        assert item.find("a")["href"] == f"/changes/{change['platform']}/{change['document']}/{change['stamp']}"
        assert change["summary"] in item.get_text()
        assert f"{change['severity'].capitalize()} severity" in item.get_text()  # the word, not a colour alone
    assert {change["kind"] for change in latest} == {"substantive"}
    assert soup.find("a", href="/feeds/changes.atom") and soup.find("a", href="/api/v1/changes")


def test_home_filters_by_platform_document_type_provision_and_severity(histories, context):
    form = read("/", context).find("form", class_="filters")
    assert form["method"] == "get" and form["action"] == "/"
    assert [s["name"] for s in form.find_all("select")] == ["platform", "type", "category", "severity"]
    for query, keep in (
        ({"platform": "midjourney"}, lambda c: c["platform"] == "midjourney"),
        ({"severity": "high"}, lambda c: c["severity"] == "high"),
        ({"category": "minors"}, lambda c: "minors" in c["categories"]),
        ({"type": "Terms of Service", "severity": "medium"}, lambda c: c["document_type"] == "Terms of Service"),
    ):
        soup = read("/", context, query)
        hrefs = [li.find("a")["href"] for li in soup.select("ol.changes > li")]
        every, _ = site().changes(limit=200)
        expected = [c for c in every if keep(c) and (query.get("severity") != "medium" or c["severity"] != "low")]
        assert hrefs == [f"/changes/{c['platform']}/{c['document']}/{c['stamp']}" for c in expected][:20], query
        assert hrefs, query
        for name, value in query.items():
            assert soup.find("select", attrs={"name": name}).find("option", selected=True)["value"] == value
    assert read("/", context, {"platform": "midjourney"}).find("link", type="application/atom+xml")["href"] == (
        "/feeds/platforms/midjourney.atom"
    )


def test_home_pages_through_every_change_with_the_cursor(histories, context, monkeypatch):
    monkeypatch.setattr(views, "HOME_CHANGES", 4)
    seen, query, pages = [], {"platform": "openai"}, 0
    while True:
        soup = read("/", context, query)
        seen += [li.find("a")["href"] for li in soup.select("ol.changes > li")]
        pages += 1
        older = soup.find("a", rel="next")
        if older is None:
            break
        query = dict(parse_qsl(urlsplit(older["href"]).query))
        assert query["platform"] == "openai" and query["cursor"]
    every, _ = site().changes(platform="openai", limit=200)
    assert seen == [f"/changes/openai/privacy-policy/{c['stamp']}" for c in every]
    assert pages == -(-len(every) // 4) > 1


@pytest.mark.parametrize(
    "query",
    [
        {"severity": "extreme"},
        {"platform": "nobody"},
        {"category": "<script>"},
        {"type": "Diary"},
        {"cursor": "not-a-cursor"},
        {"cursor": "x" * 5000},
    ],
)
def test_a_malformed_filter_or_cursor_is_a_400_with_one_line(histories, context, query):
    soup = read("/", context, query, status=400)
    assert soup.find("h1").get_text() == "Bad request" and len(soup.find("main").find_all("p")) == 1
    assert "<script>" not in str(soup.find("main"))


# -- platforms and timelines --


def test_the_platform_page_lists_its_documents_and_draws_every_change_on_its_timeline(histories, context):
    soup = read("/platforms/midjourney", context)
    assert soup.find("h1").get_text() == "Midjourney"
    catalog = site().platform("midjourney")
    rows = soup.select("table.documents tbody tr")
    assert [r.find("th").get_text() for r in rows] == [d["document_type"] for d in catalog["documents"]]
    terms = next(r for r in rows if "Terms of Service" in r.get_text())
    assert terms.find("a", href="/feeds/documents/midjourney/terms-of-service.atom")
    assert terms.find("a", href="/api/v1/documents/midjourney/terms-of-service")
    svg = soup.find("svg", class_="timeline")
    lanes = svg.find_all("g", class_="tl-lane")
    assert len(lanes) == len(catalog["documents"])  # a lane per document, changed or not
    changes = site().document("midjourney", "terms-of-service")["changes"]
    drawn = svg.find_all("a", class_="tl-mark")
    documents_changed = stamps("midjourney", "terms-of-service") + stamps("midjourney", "community-guidelines")
    assert sorted(a["href"].rsplit("/", 1)[1] for a in drawn) == sorted(documents_changed)
    for change in changes:
        [mark] = [a for a in drawn if a["href"] == f"/changes/midjourney/terms-of-service/{change['stamp']}"]
        assert change["summary"] in mark["aria-label"] and mark.find("title").get_text() == mark["aria-label"]
        if change["kind"] == "substantive":
            assert f"tl-{change['severity']}" in mark["class"] and mark.find("text").get_text() in "HML"
        else:
            assert "tl-minor" in mark["class"]
    assert svg.find("g", class_="tl-axis").find("text", class_="tl-year-label")
    assert soup.find(attrs={"aria-live": "polite"}) is not None  # where site.js says the focused marker's summary
    listed = {a["href"] for a in soup.select("#list-title ~ ol a, #list-title ~ details a")}
    assert {a["href"] for a in drawn} <= listed  # the same changes as text, for screen readers and no script
    legend = {abbr.get_text() for abbr in soup.select(".legend-codes abbr")}
    written = {
        code for t in svg.find_all("text", class_="tl-codes") for code in t.get_text().split() if "+" not in code
    }
    assert written and written <= legend  # every provision code under a marker, explained


def test_a_category_timeline_has_a_lane_per_document_whose_changes_touched_it(histories, context):
    soup = read("/timeline/model-training", context)
    touched, _ = site().changes(category="model-training", limit=200)
    marks = soup.find("svg", class_="timeline").find_all("a", class_="tl-mark")
    assert sorted(a["href"] for a in marks) == sorted(
        f"/changes/{c['platform']}/{c['document']}/{c['stamp']}" for c in touched
    )
    lanes = soup.find_all("g", class_="tl-lane")
    assert len(lanes) == len({(c["platform"], c["document"]) for c in touched}) >= 2
    assert "Model training on user content" in soup.find("h1").get_text()
    assert soup.find("a", href="/provisions/model-training")
    assert "What the Professional view adds" in shown(soup)


def test_a_document_with_archived_history_but_no_fetch_yet_says_so_not_waiting(histories, context):
    """Midjourney's terms came from the archive (21 versions) and this stack has not fetched them:
    not "waiting for a first fetch" beside 21 versions. Its privacy policy has no version at all."""
    soup = read("/platforms/midjourney", context)
    archived, waiting = "History archived; no fetch by this stack yet", "Waiting for a first fetch"
    rows = {r.find("th").get_text(): r for r in soup.select("table.documents tbody tr")}
    assert archived in rows["Terms of Service"].get_text() and waiting not in rows["Terms of Service"].get_text()
    assert waiting in rows["Privacy Policy"].get_text()
    lede = " ".join(soup.find(class_="lede").get_text().split())
    assert f"{waiting} (Privacy Policy)" in lede and archived in lede  # which documents are in which state
    document = shown(read("/documents/midjourney/terms-of-service", context))
    assert f"Health {archived}" in document and waiting not in document
    failing = read("/platforms/openai", context)
    assert "Failing (Privacy Policy)" in " ".join(failing.find(class_="lede").get_text().split())


@pytest.mark.parametrize(
    ("path", "table"),
    [("/platforms/midjourney", "documents"), ("/documents/anthropic/privacy-policy", "versions")],
)
def test_a_wide_table_names_each_cells_column_for_a_narrow_screen(histories, context, path, table):
    """On a narrow screen these tables' rows are laid out as blocks (site.css ``table.stack``), each
    cell after its column's name: nothing cut off at 375 px, nothing to scroll sideways."""
    soup = read(path, context)
    found = soup.find("table", class_=table)
    assert "stack" in found["class"]
    columns = [th.get_text() for th in found.select("thead th")]
    for row in found.select("tbody tr"):
        assert [td["data-label"] for td in row.find_all("td")] == columns[1:]  # the row's <th> names itself


def test_the_provisions_index_links_every_category_to_its_comparison_and_timeline(histories, context):
    soup = read("/provisions", context)
    for category in site().categories():
        assert soup.find("a", href=f"/provisions/{category['id']}").get_text() == category["label"]
        assert soup.find("a", href=f"/timeline/{category['id']}")


def test_the_provision_comparison_quotes_each_platform_and_its_latest_change(histories, context):
    soup = read("/provisions/model-training", context)
    rows = site().provision("model-training")
    saying = [r for r in rows if r["quotes"]]
    platforms = len({r["platform"] for r in saying})
    assert soup.find("h1").get_text() == f"How {platforms} AI platforms describe model training on user content"
    for row in saying:
        section = soup.find("section", attrs={"aria-labelledby": f"r-{row['platform']}-{row['document']}"})
        assert row["platform_name"] in section.find("h2").get_text()
        for quote in row["quotes"]:
            assert " ".join(quote["text"].split()) in " ".join(section.get_text(" ").split())
        version = f"/documents/{row['platform']}/{row['document']}/versions/{row['stamp']}"
        assert section.find("a", href=version)
        if row["latest_change"]:
            change = row["latest_change"]
            assert section.find("a", href=f"/changes/{change['platform']}/{change['document']}/{change['stamp']}")
    silent = soup.find("section", attrs={"aria-labelledby": "silent-title"})
    assert {a["href"] for a in silent.find_all("a")} == {
        f"/documents/{r['platform']}/{r['document']}" for r in rows if not r["quotes"]
    }


# -- documents, versions, comparisons --


def test_the_document_page_lists_every_version_and_marks_the_current_texts_provisions(histories, context):
    soup = read("/documents/anthropic/privacy-policy", context)
    doc = site().document("anthropic", "privacy-policy")
    rows = soup.select("table.versions tbody tr")
    assert len(rows) == len(doc["versions"]) == 12
    for row, version in zip(rows, reversed(doc["versions"]), strict=True):
        assert version["sha256"] in row.get_text()
        assert row.find("a", href=f"/documents/anthropic/privacy-policy/versions/{version['stamp']}")
        assert row.find("a", href=f"/versions/anthropic/privacy-policy/{version['stamp']}.md")
    substantive = sum(1 for c in doc["changes"] if c["kind"] == "substantive")
    assert f"has changed this document {substantive} times" in shown(soup)
    marked = soup.select(".policy-text .marked")
    assert len(marked) == len(doc["profile"]["marks"])  # every passage the profile marks, and only those
    training = [p for p in marked if "Model training on user content" in p.find(class_="prov-tags").get_text()]
    assert any("We may use your Inputs and Outputs to train our models" in p.get_text() for p in training)
    form = soup.find("form", class_="compare-form")
    assert form["action"] == "/documents/anthropic/privacy-policy/compare" and form["method"] == "get"
    assert [len(s.find_all("option")) for s in form.find_all("select")] == [12, 12]
    assert soup.find("a", href="/feeds/documents/anthropic/privacy-policy.atom")
    assert soup.find("a", href="/api/v1/documents/anthropic/privacy-policy")


def test_a_version_page_shows_the_archived_text_its_hash_and_the_change_that_made_it(histories, context):
    soup = read(f"/documents/anthropic/privacy-policy/versions/{CLAUDE_TRAINING}", context)
    version = next(
        v for v in site().document("anthropic", "privacy-policy")["versions"] if v["stamp"] == CLAUDE_TRAINING
    )
    text = shown(soup)
    assert version["sha256"] in text and "29 Aug 2025, 00:32 UTC" in text and version["source_url"] in text
    assert soup.find("a", href=f"/versions/anthropic/privacy-policy/{CLAUDE_TRAINING}.md")
    assert soup.find("a", href=f"/changes/anthropic/privacy-policy/{CLAUDE_TRAINING}")
    assert "We may use your Inputs and Outputs to train our models" in text
    assert soup.select(".policy-text .marked .prov-tag")  # its own provisions, though it is not the current text
    raw = call(f"/versions/anthropic/privacy-policy/{CLAUDE_TRAINING}.md", context)
    assert raw["statusCode"] == 200 and raw["headers"]["X-Content-SHA256"] == version["sha256"]


def test_comparing_two_consecutive_versions_finds_the_recorded_change_and_links_it(histories, context):
    changes = site().document("anthropic", "privacy-policy")["changes"]
    change = next(c for c in changes if c["stamp"] == CLAUDE_TRAINING)
    query = {"from": change["previous_stamp"], "to": CLAUDE_TRAINING}
    soup = read("/documents/anthropic/privacy-policy/compare", context, query)
    recorded = read(f"/changes/anthropic/privacy-policy/{CLAUDE_TRAINING}", context)
    assert soup.find("a", href=f"/changes/anthropic/privacy-policy/{CLAUDE_TRAINING}")
    assert soup.select(".passage") and len(soup.select(".passage")) == len(recorded.select(".passage"))
    assert soup.find(class_="summary").get_text() == change["summary"]  # the same engine, the same words
    swapped = read("/documents/anthropic/privacy-policy/compare", context, {"from": query["to"], "to": query["from"]})
    assert swapped.find(class_="summary").get_text() == change["summary"]  # the older first, whichever way asked


def test_comparing_versions_far_apart_shows_what_changed_between_them(histories, context):
    versions = [v["stamp"] for v in site().document("midjourney", "terms-of-service")["versions"]]
    query = {"from": versions[5], "to": versions[7]}  # August 2024 and February 2025: the Image Editor arrives
    soup = read("/documents/midjourney/terms-of-service/compare", context, query)
    text = shown(soup)
    assert "Image Editor" in text and "not consecutive" in text
    for version in (versions[5], versions[7]):
        assert soup.find("a", href=f"/documents/midjourney/terms-of-service/versions/{version}")


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"from": "2025-08-16T003205.000Z"}, 400),
        ({"from": "yesterday", "to": "2025-08-29T003202.000Z"}, 400),
        ({"from": CLAUDE_TRAINING, "to": CLAUDE_TRAINING}, 400),
        ({"from": "2020-01-01T000000.000Z", "to": CLAUDE_TRAINING}, 404),
    ],
)
def test_a_comparison_of_anything_but_two_known_versions_is_refused(histories, context, query, status):
    read("/documents/anthropic/privacy-policy/compare", context, query, status=status)


# -- changes --


def test_the_change_page_is_a_page_of_its_own_with_every_passage_provision_and_the_evidence(histories, context):
    soup = read(f"/changes/anthropic/privacy-policy/{CLAUDE_TRAINING}", context)
    record = site().change("anthropic", "privacy-policy", CLAUDE_TRAINING)
    text = shown(soup)
    assert soup.find("h1").get_text() == "Anthropic (Claude) changed its Privacy Policy"
    assert "Substantive" in text and "High severity" in text and "Worse for users" in text
    assert record["summary"] in text and "28 Sep 2025" in text
    for unwanted in ("policywatch alert", "See the change", "You receive this because", "reply to this one"):
        assert unwanted not in text  # not the e-mail
    passages = soup.select(".passage")
    assert len(passages) == sum(1 for b in record["blocks"] if b["class"] == "text")
    assert soup.select(".passage del") and soup.select(".passage ins")  # word-level changes
    for provision in record["provisions"]:
        section = soup.find("section", attrs={"aria-labelledby": f"p-{provision['id']}"})
        assert provision["label"] in section.find("h3").get_text()
        assert f"{provision['severity'].capitalize()} severity" in section.get_text()
        for says in provision["says"]:
            assert says.lower() in section.get_text().lower()
    for which in ("previous", "current"):
        version = record["evidence"][which]
        stamp = version["key"].rsplit("/", 1)[1].removesuffix(".md")
        assert version["sha256"] in text
        assert soup.find("a", href=f"/documents/anthropic/privacy-policy/versions/{stamp}")
        assert soup.find("a", href="/" + version["key"])
    changes = stamps("anthropic", "privacy-policy")
    at = changes.index(CLAUDE_TRAINING)
    assert soup.find("a", rel="prev")["href"] == f"/changes/anthropic/privacy-policy/{changes[at - 1]}"
    assert soup.find("a", rel="next")["href"] == f"/changes/anthropic/privacy-policy/{changes[at + 1]}"
    assert "What the Professional view adds" in text and "Art. 6(1)(f)" not in text  # the mapping is Professional


def test_a_cosmetic_change_page_says_which_link_changed_from_what_to_what(histories, context):
    soup = read(f"/changes/openai/privacy-policy/{CHATGPT_LINK}", context)
    assert "Cosmetic" in shown(soup) and "Exactly what changed" in shown(soup)
    [row] = soup.select("table.links-changed tbody tr")
    cells = [cell.get_text(" ", strip=True) for cell in row.find_all(["th", "td"])]
    assert cells == [
        "this version of our Privacy Policy",
        "https://openai.com/policies/privacy-policy/",
        "https://openai.com/policies/row-privacy-policy/",
    ]
    assert soup.find("a", href="https://openai.com/policies/row-privacy-policy/") is None  # policy text is never a link


def test_a_change_of_many_links_names_each_one(histories, context):
    soup = read(f"/changes/midjourney/terms-of-service/{MIDJOURNEY_LINKS}", context)
    record = site().change("midjourney", "terms-of-service", MIDJOURNEY_LINKS)
    assert record["kind"] == "cosmetic" and record["noise"] == {"link": 13}
    rows = soup.select("table.links-changed tbody tr")
    assert len(rows) >= 13
    assert any("#h_01JD8G54NN0E1E7W3MNV1QH2WD" in row.get_text() and "gone" in row.get_text() for row in rows)
    assert any("image /hc/theming_assets/" in row.get_text() and "link removed" in row.get_text() for row in rows)


def test_a_passage_the_record_shortened_says_so_and_links_the_version_that_has_it_whole(histories, context):
    """The record keeps 600 characters of a passage (docs/change-event.md): the page ends it at a
    whole word, says it was shortened and links the archived version, opened at the passage."""
    record = site().change("midjourney", "terms-of-service", MIDJOURNEY_LOCALIZATION)
    cut = [b for b in record["blocks"] if b["class"] == "text" and not b.get("delta") and b["after"].endswith("…")]
    assert cut and all(len(b["after"]) == 600 for b in cut)
    soup = read(f"/changes/midjourney/terms-of-service/{MIDJOURNEY_LOCALIZATION}", context)
    passages = [p for p in soup.select(".passage") if p.find(class_="cut-note")]
    assert len(passages) == len(cut)
    version = f"/documents/midjourney/terms-of-service/versions/{MIDJOURNEY_LOCALIZATION}"
    for passage, block in zip(passages, cut, strict=True):
        note = passage.find(class_="cut-note")
        assert "Shortened" in note.get_text() and "600 characters" in note.get_text()
        [link] = note.find_all("a")
        assert link.get_text() == "the new version" and link["href"].split("#")[0] == version
        assert link["href"].split("#", 1)[1].startswith(":~:text=")  # the browser scrolls to the passage
        text = " ".join(passage.find("ins").get_text().split())
        last = block["after"].removesuffix("…").split()[-1]
        assert text.endswith(" …") and not text.removesuffix(" …").endswith(last)  # no word cut in two
    assert "publicly di…" not in shown(soup)  # the passage the review found cut mid-word


def test_a_renumbered_section_is_shown_as_text_and_said_to_be_renumbered(histories, context):
    """A heading whose number changed ("12\\. Miscellaneous[](#h_…)" to "13\\. …") is a formatting
    change: shown as the reader reads it, its Markdown only on request, and called renumbered."""
    record = site().change("midjourney", "terms-of-service", MIDJOURNEY_LOCALIZATION)
    [block] = [b for b in record["blocks"] if b["class"] == "formatting"]
    assert block["before"].startswith("12\\. Miscellaneous[](#h_") and block["after"].startswith("13\\. ")
    soup = read(f"/changes/midjourney/terms-of-service/{MIDJOURNEY_LOCALIZATION}", context)
    group = soup.find("section", class_="minor-formatting")
    assert "Renumbered" in group.find("h3").get_text()
    [item] = group.select("ol.minor-list > li")
    markdown = item.find("details")
    assert markdown.find("summary") and block["before"] in markdown.get_text()  # the exact change, on request
    markdown.extract()
    text = " ".join(item.get_text(" ").split())
    assert text.startswith("Renumbered") and "Miscellaneous" in text
    assert item.find("del").get_text(strip=True) == "removed:12."  # its hidden word says which is which
    assert item.find("ins").get_text(strip=True) == "added:13."
    assert "\\" not in text and "[](" not in text and "#h_" not in text


def test_a_reformatted_passage_reads_as_the_same_words_even_where_the_record_cut_both_sides(histories, context):
    """Links lost their "(opens in a new window)": the same words, so the page shows them once, as
    text. Where the record cut both sides at 600 characters, at different words (the old Markdown
    was longer), the words one side has past the other's end are not shown as a change."""
    record = site().change("openai", "privacy-policy", CHATGPT_HINTS)
    formatting = [b for b in record["blocks"] if b["class"] == "formatting" and b["op"] == "modified"]
    both_cut = [b for b in formatting if b["before"].endswith("…") and b["after"].endswith("…")]
    assert both_cut and len(formatting) > len(both_cut)
    soup = read(f"/changes/openai/privacy-policy/{CHATGPT_HINTS}", context)
    items = soup.select("section.minor-formatting ol.minor-list > li")
    assert len(items) == len(formatting)
    for item, block in zip(items, formatting, strict=True):
        item.find("details").extract()  # the Markdown, on request
        text = " ".join(item.get_text(" ").split())
        assert "The same words as before" in text and not item.find(["del", "ins"]), text
        assert "opens in a new window" not in text and "](" not in text
        note = item.find(class_="cut-note")
        assert (note is not None) == (block["before"].endswith("…") or block["after"].endswith("…"))
        if block in both_cut:
            assert [a.get_text() for a in note.find_all("a")] == ["the previous version", "the new version"]


def test_the_evidence_is_a_block_per_version_with_its_hash_time_and_archive(histories, context):
    """One block per version (side by side where they fit, stacked on a phone): never a table whose
    second column is cut off on a narrow screen."""
    soup = read(f"/changes/midjourney/terms-of-service/{MIDJOURNEY_LOCALIZATION}", context)
    record = site().change("midjourney", "terms-of-service", MIDJOURNEY_LOCALIZATION)
    section = soup.find("section", attrs={"aria-labelledby": "evidence-title"})
    assert section.find("table") is None
    blocks = section.select(".evidence-version")
    assert [b.find("h3").get_text() for b in blocks] == ["Previous version", "New version"]
    for block, which in zip(blocks, ("previous", "current"), strict=True):
        version = record["evidence"][which]
        stamp = version["key"].rsplit("/", 1)[1].removesuffix(".md")
        assert block.find("code", class_="hash").get_text() == version["sha256"]
        assert block.find("a", href=f"/documents/midjourney/terms-of-service/versions/{stamp}")
        assert block.find("a", href="/" + version["key"])
    assert section.find("a", href=record["evidence"]["current"]["source_url"])


def test_policy_text_with_markup_and_scripts_is_shown_as_text_everywhere(histories, context):
    [stamp] = stamps("midjourney", "community-guidelines")
    for path in (
        f"/changes/{HOSTILE}/{stamp}",
        f"/documents/{HOSTILE}",
        f"/documents/{HOSTILE}/versions/{stamp}",
        f"/documents/{HOSTILE}/compare",
    ):
        versions = [v["stamp"] for v in site().document("midjourney", "community-guidelines")["versions"]]
        response = call(path, context, {"from": versions[0], "to": versions[1]} if path.endswith("compare") else None)
        assert response["statusCode"] == 200, path
        soup = BeautifulSoup(response["body"], "html.parser")
        assert [s.get("src") for s in soup.find_all("script")] == ["/static/site.js"], path
        assert soup.find("img") is None and not soup.find_all(attrs={"onerror": True}), path
        hrefs = [a.get("href", "") for a in soup.find_all("a")]
        assert not [h for h in hrefs if "javascript:" in h or "evil.test" in h], path
        text = shown(soup)
        assert "We may share your prompts" in text and 'alert("pw")' in text and "evil.test" in text, path  # as text


# -- Professional --


def _pro_link(path: str, subscriber, expires: int) -> tuple[str, dict[str, str]]:
    url = Links(BASE).pro(path, subscriber.subscriber_id, subscriber.unsubscribe_token, expires)
    assert url is not None
    parts = urlsplit(url)
    return parts.path, dict(parse_qsl(parts.query))


def test_the_professional_change_page_adds_the_regulatory_mapping_and_the_checks(histories, context):
    pro = subscribe("pat@example.com", "professional")
    path, query = _pro_link(f"pro/changes/anthropic/privacy-policy/{CLAUDE_TRAINING}", pro, int(time.time()) + 3600)
    response = call(path, context, query)
    assert response["statusCode"] == 200 and response["headers"]["Cache-Control"] == PRIVATE
    soup = BeautifulSoup(response["body"], "html.parser")
    record = site().change("anthropic", "privacy-policy", CLAUDE_TRAINING)
    training = soup.find("section", attrs={"aria-labelledby": "p-model-training"})
    text = " ".join(training.get_text(" ").split())
    mapping = next(p for p in record["provisions"] if p["id"] == "model-training")["regulations"]
    assert f"Exposure {mapping['exposure']}" in text
    for engaged in mapping["engages"]:
        assert engaged["regulation"] in text and engaged["reference"] in text
    assert "What a compliance team should check" in text and training.select("ul.checks li")
    assert "What the Professional view adds" not in shown(soup)
    assert soup.find("meta", attrs={"name": "referrer"})["content"] == "no-referrer"  # the link's signature stays here
    signed = urlencode(query)
    for a in soup.select('a[href^="/pro/"]'):
        assert a["href"].endswith("?" + signed)  # from one Professional page to the next
    timeline = soup.find("a", href=f"/pro/timeline/model-training?{signed}")
    assert timeline is not None
    page = read("/pro/timeline/model-training", context, query)
    assert "Regulatory mapping" in shown(page) and page.select("ul.checks li")
    assert all(a["href"].startswith("/pro/changes/") for a in page.select("svg a.tl-mark"))


@pytest.mark.parametrize("link", ["expired", "forged", "missing", "watcher"])
def test_professional_pages_open_only_with_a_valid_link(histories, context, link):
    pro = subscribe(f"{link}@example.com", "watcher" if link == "watcher" else "professional")
    expires = int(time.time()) + (-60 if link == "expired" else 3600)
    path, query = _pro_link(f"pro/changes/anthropic/privacy-policy/{CLAUDE_TRAINING}", pro, expires)
    if link == "forged":
        query["sig"] = query["sig"][:-3] + "AAA"
    if link == "missing":
        query = {}
    for page in (path, "/pro/timeline/model-training"):
        response = call(page, context, query)
        assert response["statusCode"] == 403 and "Art. 6(1)(f)" not in response["body"]
        assert response["headers"]["Cache-Control"] == PRIVATE


# -- what is not there --


@pytest.mark.parametrize(
    "path",
    [
        "/platforms/nobody",
        "/documents/anthropic/no-such-document",
        "/documents/nobody/privacy-policy",
        f"/documents/anthropic/privacy-policy/versions/{CLAUDE_TRAINING[:-8]}0000.000Z",
        "/changes/anthropic/privacy-policy/2020-01-01T000000.000Z",
        "/timeline/no-such-category",
        "/provisions/no-such-category",
        "/static/other.css",
        "/versions/anthropic/privacy-policy/2020-01-01T000000.000Z.md",
    ],
)
def test_anything_unknown_is_a_404_page(histories, context, path):
    response = call(path, context)
    assert response["statusCode"] == 404 and response["headers"]["Content-Type"].startswith("text/html")
    assert "Not found" in response["body"]


# -- every link of ours answers --


@pytest.mark.timeout(900)
def test_every_link_on_every_page_answers(histories, context):
    """From the home page, every page of ours is opened and every link and resource on it answers
    200 (feeds, the API and raw versions are fetched, not read for links)."""
    start = time.monotonic()
    queue, seen, pages, broken = ["/"], {"/"}, 0, []
    while queue:
        url = queue.pop(0)
        parts = urlsplit(url)
        response = call(parts.path, context, dict(parse_qsl(parts.query)))
        if response["statusCode"] != 200:
            broken.append((url, response["statusCode"]))
            continue
        if not response["headers"]["Content-Type"].startswith("text/html"):
            continue
        pages += 1
        soup = BeautifulSoup(response["body"], "html.parser")
        for element in soup.find_all(["a", "link", "script"]):
            target = element.get("href") or element.get("src")
            if not target or not target.startswith("/") or target.startswith("//"):
                continue
            target = target.split("#", 1)[0] or "/"
            if target not in seen:
                seen.add(target)
                queue.append(target)
    assert broken == []
    kinds = {re.sub(r"^/([a-z]+)/.*", r"\1", u.split("?")[0]) for u in seen}
    assert {
        "platforms",
        "documents",
        "changes",
        "timeline",
        "provisions",
        "versions",
        "feeds",
        "api",
        "static",
    } <= kinds
    assert pages > 100
    print(f"\n{pages} pages and {len(seen)} addresses checked in {time.monotonic() - start:.0f} s")


def test_a_version_page_links_its_neighbours_and_marks_its_own_provisions(histories, context):
    versions = site().document("midjourney", "terms-of-service")["versions"]
    base = "/documents/midjourney/terms-of-service/versions/"
    for index in (0, len(versions) // 2, len(versions) - 1):
        soup = BeautifulSoup(call(base + versions[index]["stamp"], context)["body"], "html.parser")
        previous, following = soup.find("a", rel="prev"), soup.find("a", rel="next")
        assert (previous["href"] if previous else None) == (base + versions[index - 1]["stamp"] if index else None)
        assert (following["href"] if following else None) == (
            base + versions[index + 1]["stamp"] if index + 1 < len(versions) else None
        )
        assert versions[index]["sha256"] in soup.get_text()
    # An older version's marks were written when it was diffed: its page reads them, never the current ones.
    oldest = site().version("midjourney", "terms-of-service", versions[0]["stamp"])
    assert oldest["marks"] and oldest["marks"] != site().document("midjourney", "terms-of-service")["profile"]["marks"]
