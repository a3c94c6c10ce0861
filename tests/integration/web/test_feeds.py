"""The Atom feeds through the web function, on real histories diffed into moto by the pipeline's code.

Each feed is checked against what RFC 4287 requires of a feed and its entries, and policy text is
checked to arrive as text: a version carrying a ``<script>`` is archived and diffed like any other.
"""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from functions.web import web_handler
from policywatch.web.pages import FEED_CACHE
from tests.helpers.corpus import history_version
from tests.helpers.paths import EVENTS
from tests.helpers.site import CHATGPT, CLAUDE, MIDJOURNEY, archive_version, load_history, site_stack

A = "{http://www.w3.org/2005/Atom}"
BASE = "https://policywatch.test"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
SAMPLE = json.loads((EVENTS / "web.json").read_text())
HOSTILE = "We may sell your prompts to advertisers and train our models on them <script>alert('pwned')</script> & more."


@pytest.fixture(scope="module")
def histories() -> Iterator[None]:
    """One moto stack for the module, with real histories loaded once (loading is the slow part):
    Claude's first 6 versions, ChatGPT's 20, Midjourney's first 5, and a Midjourney version that
    adds a passage carrying a ``<script>``."""
    with site_stack(BASE) as topic:
        load_history(CLAUDE, topic, last=6)
        load_history(CHATGPT, topic)
        load_history(MIDJOURNEY, topic, last=5)
        _archive_hostile_version(topic)
        yield


def _archive_hostile_version(topic: str) -> None:
    text = history_version(MIDJOURNEY.folder, 5) + f"\n\n## Training\n\n{HOSTILE}\n"
    metadata = {"source-url": MIDJOURNEY.url, "document-type": MIDJOURNEY.document_type, "extractor-version": "2"}
    archive_version("midjourney/terms-of-service", datetime(2026, 11, 1, 12, 0, tzinfo=UTC), text, metadata, topic)


def get(path: str, context, query: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> dict:
    event = copy.deepcopy(SAMPLE)
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = "GET"
    event["queryStringParameters"] = query
    event["rawQueryString"] = urlencode(query or {})
    event["headers"] = {"host": "policywatch.test", **(headers or {})}
    event["body"] = ""
    return web_handler.handler(event, context)


def feed(path: str, context, query: dict[str, str] | None = None) -> ET.Element:
    response = get(path, context, query)
    assert response["statusCode"] == 200, response["body"][:300]
    assert response["headers"]["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert response["headers"]["Cache-Control"] == FEED_CACHE
    return ET.fromstring(response["body"].encode())


def entries(root: ET.Element) -> list[ET.Element]:
    return root.findall(f"{A}entry")


def ids(root: ET.Element) -> list[str]:
    return [entry.findtext(f"{A}id") or "" for entry in entries(root)]


def one(parent: ET.Element, tag: str) -> ET.Element:
    found = parent.findall(f"{A}{tag}")
    assert len(found) == 1, f"{len(found)} atom:{tag} in atom:{parent.tag.removeprefix(A)}"
    return found[0]


def assert_atom(root: ET.Element, self_url: str, html_url: str) -> None:
    """What RFC 4287 requires of a feed (4.1.1) and of each entry (4.1.2), and what we promise beyond."""
    assert root.tag == f"{A}feed"
    for tag in ("id", "title", "updated"):
        assert (one(root, tag).text or "").strip(), tag
    assert one(root, "id").text.startswith("tag:policywatch,2024:feeds/")
    assert one(one(root, "author"), "name").text == "policywatch"
    links = root.findall(f"{A}link")
    alternates = [(link.get("type"), link.get("hreflang")) for link in links if link.get("rel") == "alternate"]
    assert len(alternates) == len(set(alternates)), "more than one alternate link of a type"
    assert [link.get("href") for link in links if link.get("rel") == "self"] == [self_url]
    assert {link.get("href") for link in links if link.get("type") == "text/html"} == {html_url}
    stamps = []
    for entry in entries(root):
        for tag in ("id", "title", "updated", "published", "summary"):
            assert (one(entry, tag).text or "").strip(), tag
        assert one(entry, "id").text.startswith("tag:policywatch,2024:change/")
        assert RFC3339.match(one(entry, "updated").text) and RFC3339.match(one(entry, "published").text)
        alternate = one(entry, "link")
        assert alternate.get("rel") == "alternate" and alternate.get("type") == "text/html"
        assert re.match(
            rf"^{BASE}/changes/[a-z0-9-]+/[a-z0-9-]+/\d{{4}}-\d\d-\d\dT\d{{6}}\.\d{{3}}Z$", alternate.get("href")
        )
        assert one(entry, "content").get("type") == "html"
        stamps.append(one(entry, "updated").text)
    assert stamps == sorted(stamps, reverse=True), "entries newest first"
    assert one(root, "updated").text == (stamps[0] if stamps else "1970-01-01T00:00:00Z")


def test_every_feed_is_atom_with_what_rfc_4287_requires(histories, context):
    for path, query, html in (
        ("/feeds/changes.atom", None, "/"),
        ("/feeds/changes.atom", {"severity": "medium"}, "/?severity=medium"),
        ("/feeds/platforms/openai.atom", None, "/platforms/openai"),
        ("/feeds/documents/anthropic/privacy-policy.atom", None, "/documents/anthropic/privacy-policy"),
        ("/feeds/provisions/model-training.atom", None, "/provisions/model-training"),
        ("/feeds/severity/high.atom", None, "/?severity=high"),
    ):
        root = feed(path, context, query)
        assert_atom(root, BASE + path + ("?" + urlencode(query) if query else ""), BASE + html)
        assert entries(root), path


def test_a_feed_links_to_the_pages_it_mirrors(histories, context):
    for path in ("/feeds/changes.atom", "/feeds/platforms/openai.atom", "/feeds/provisions/model-training.atom"):
        root = feed(path, context)
        pages = [link.get("href") for link in root.findall(f"{A}link") if link.get("type") == "text/html"]
        pages.append(one(entries(root)[0], "link").get("href"))
        for url in pages:
            page = get(urlsplit(url).path, context, dict(parse_qsl(urlsplit(url).query)))
            assert page["statusCode"] == 200 and page["headers"]["Content-Type"].startswith("text/html"), url


def test_the_same_change_has_the_same_id_in_every_feed_and_every_time(histories, context):
    everything = feed("/feeds/changes.atom", context)
    assert ids(everything) == ids(feed("/feeds/changes.atom", context))
    assert len(ids(everything)) == len(set(ids(everything)))
    claude = feed("/feeds/documents/anthropic/privacy-policy.atom", context)
    training = feed("/feeds/provisions/model-training.atom", context)
    openai = feed("/feeds/platforms/openai.atom", context)
    for narrower in (claude, training, openai):
        assert set(ids(narrower)) <= set(ids(everything))
    [claude_change] = ids(claude)  # Claude's 2025-08-29 training change: the only alerting one of its first six
    assert claude_change in ids(training) and claude_change.endswith(
        "/anthropic/privacy-policy/656bb2048af0581b2c7b637b"
    )
    assert {i.split("/")[1] for i in ids(openai)} == {"openai"}


def test_an_entry_carries_the_summary_provisions_effective_date_and_passages(histories, context):
    [entry] = entries(feed("/feeds/documents/anthropic/privacy-policy.atom", context))
    title = one(entry, "title").text
    assert title.startswith("Anthropic (Claude) Privacy Policy: high — Now permits training models on user content")
    summary = one(entry, "summary").text
    assert summary.startswith("Now permits training models on user content") and summary in one(entry, "content").text
    body = _html(one(entry, "content").text)
    assert "script" not in body.tags and {"h3", "li", "blockquote", "del", "ins"} <= body.tags
    assert "Severity: high, worse for users." in body.text
    assert "Model training on user content: high severity, worse for users" in body.text
    assert "Takes effect 2025-09-28." in body.text
    assert "Materials flagged for safety, security, or policy review" in body.text  # an added passage
    assert "All 21 changed passages" in body.text  # the entry carries 8; the link says where the rest are
    assert body.links == [f"{BASE}/changes/anthropic/privacy-policy/2025-08-29T003202.000Z"]
    terms = {category.get("term"): category.get("label") for category in entry.findall(f"{A}category")}
    assert terms["model-training"] == "Model training on user content" and "training-opt-out" in terms
    assert one(entry, "updated").text == "2025-08-29T00:32:02Z"


def test_policy_text_arrives_as_text_never_as_markup(histories, context):
    response = get("/feeds/documents/midjourney/terms-of-service.atom", context)
    assert "<script>" not in response["body"]
    newest = entries(ET.fromstring(response["body"].encode()))[0]
    content = one(newest, "content").text
    assert "<script>" not in content and "&lt;script&gt;" in content  # escaped once in the HTML...
    body = _html(content)
    assert "script" not in body.tags
    assert HOSTILE in body.text  # ...so a feed reader shows the passage as it was written


def test_a_minimum_severity_keeps_that_severity_and_above(histories, context):
    rank = {"low": 0, "medium": 1, "high": 2}
    every = _severities(feed("/feeds/changes.atom", context))
    assert set(every) == {"low", "medium", "high"}
    for minimum in rank:
        by_path = feed(f"/feeds/severity/{minimum}.atom", context)
        by_query = feed("/feeds/changes.atom", context, {"severity": minimum})
        assert ids(by_path) == ids(by_query)
        assert one(by_path, "id").text == one(by_query, "id").text == f"tag:policywatch,2024:feeds/severity/{minimum}"
        assert _severities(by_path) == [s for s in every if rank[s] >= rank[minimum]]


def test_unknown_feeds_are_404_pages_and_a_bad_severity_a_400(histories, context):
    for path in (
        "/feeds/platforms/nobody.atom",
        "/feeds/documents/anthropic/no-such-document.atom",
        "/feeds/documents/nobody/privacy-policy.atom",
        "/feeds/provisions/no-such-category.atom",
        "/feeds/severity/none.atom",
        "/feeds/severity/critical.atom",
        "/feeds/platforms/OpenAI.atom",
        "/feeds/platforms/openai",
        "/feeds/platforms/openai.rss",
        "/feeds/changes.atom/more",
        "/feeds/",
    ):
        response = get(path, context)
        assert response["statusCode"] == 404, path
        assert response["headers"]["Content-Type"].startswith("text/html") and "Not found" in response["body"]
    response = get("/feeds/changes.atom", context, {"severity": "critical"})
    assert response["statusCode"] == 400 and "severity must be one of low, medium, high" in response["body"]


def test_a_feed_of_a_known_document_without_alerting_changes_is_empty_but_valid(histories, context):
    root = feed("/feeds/documents/anthropic/terms-of-service.atom", context)
    assert entries(root) == []
    assert_atom(
        root,
        f"{BASE}/feeds/documents/anthropic/terms-of-service.atom",
        f"{BASE}/documents/anthropic/terms-of-service",
    )


def test_a_feed_answers_304_to_its_etag(histories, context):
    first = get("/feeds/platforms/openai.atom", context)
    again = get("/feeds/platforms/openai.atom", context, headers={"if-none-match": first["headers"]["ETag"]})
    assert again["statusCode"] == 304 and again["body"] == ""
    assert again["headers"]["ETag"] == first["headers"]["ETag"]


class _Html(HTMLParser):
    """An entry's HTML content as a reader's browser sees it: its tags, its text and its links."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.links: list[str] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.links += [value or "" for name, value in attrs if name == "href"]

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def _html(content: str | None) -> _Html:
    parser = _Html()
    parser.feed(content or "")
    parser.close()
    return parser


def _severities(root: ET.Element) -> list[str]:
    return [re.search(r": (low|medium|high) — ", one(e, "title").text).group(1) for e in entries(root)]
