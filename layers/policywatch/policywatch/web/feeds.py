"""Atom feeds (RFC 4287) of alerting changes, for feed readers: the newest ``ENTRIES`` of each.

- ``/feeds/changes.atom`` (``?severity=low|medium|high``: at least that severity)
- ``/feeds/platforms/{platform}.atom``, ``/feeds/documents/{platform}/{document}.atom``
- ``/feeds/provisions/{category}.atom``, ``/feeds/severity/{low|medium|high}.atom``

An entry is one change, with the same id in every feed that lists it, so a reader subscribed to
two feeds shows it once. It carries the summary and, as HTML, the provisions, the effective
date, the re-dating flag (the text changed but its stated date did not) and the changed
passages the read model keeps (the change page has all of them). Policy text is data: it is
escaped into that HTML, which is escaped again into the XML, and characters XML cannot carry
are dropped. Built with ElementTree: the web function has no lxml.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from policywatch.core import clock
from policywatch.storage.site import SEVERITIES
from policywatch.web.pages import FEED_CACHE, PageResponse, bad_request, not_found
from policywatch.web.render import dating_note
from policywatch.web.request import Request
from policywatch.web.site import Site

ATOM = "http://www.w3.org/2005/Atom"
CONTENT_TYPE = "application/atom+xml; charset=utf-8"
ENTRIES = 50
ID_PREFIX = "tag:policywatch,2024:"  # RFC 4151 tag URIs: the same on every host the site is served from
EPOCH = "1970-01-01T00:00:00Z"  # an empty feed's <updated>: a fixed instant keeps its ETag stable
TITLE_WORDS = 12
DIRECTIONS = {"worse": "worse for users", "better": "better for users", "neutral": "neither better nor worse"}

_PART = r"[a-z0-9][a-z0-9-]{0,80}"
_PATHS = (
    ("changes", re.compile(r"^/feeds/changes\.atom$")),
    ("platform", re.compile(rf"^/feeds/platforms/(?P<platform>{_PART})\.atom$")),
    ("document", re.compile(rf"^/feeds/documents/(?P<platform>{_PART})/(?P<document>{_PART})\.atom$")),
    ("category", re.compile(rf"^/feeds/provisions/(?P<category>{_PART})\.atom$")),
    ("severity", re.compile(rf"^/feeds/severity/(?P<severity>{_PART})\.atom$")),
)
# What XML 1.0 cannot carry (C0 controls but tab and newlines, lone surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Feed:
    """What one feed is: its id, words, the HTML page (and API list) it mirrors, and its changes."""

    key: str  # "feeds/platforms/anthropic": the id and the self link are made from it
    title: str
    subtitle: str
    html_path: str
    api_path: str | None
    changes: list[dict[str, Any]]


def route(site: Site, request: Request) -> PageResponse | None:
    """The feed at ``request.path``; None for a path outside ``/feeds/``; a 404 for a feed we do not have."""
    if not request.path.startswith("/feeds/"):
        return None
    for kind, pattern in _PATHS:
        matched = pattern.match(request.path)
        if matched:
            return _answer(site, request, kind, matched.groupdict())
    return not_found("feed")


def _answer(site: Site, request: Request, kind: str, parts: dict[str, str]) -> PageResponse:
    self_url = request.url(request.path)
    if kind == "changes" and "severity" in request.query:
        # The same feed as /feeds/severity/{severity}.atom (its id too), at the address asked for.
        kind, parts["severity"] = "severity", request.query["severity"]
        if parts["severity"] not in SEVERITIES:
            return bad_request("severity must be one of low, medium, high")
        self_url += "?" + urlencode({"severity": parts["severity"]})
    feed = _feed(site, kind, parts)
    if feed is None:
        return not_found("feed")
    return PageResponse(200, render(feed, request, self_url, _labels(site)), CONTENT_TYPE, cache=FEED_CACHE)


# -- which changes each feed lists --


def _feed(site: Site, kind: str, parts: dict[str, str]) -> Feed | None:
    if kind == "platform":
        return _platform_feed(site, parts["platform"])
    if kind == "document":
        return _document_feed(site, parts["platform"], parts["document"])
    if kind == "category":
        return _category_feed(site, parts["category"])
    if kind == "severity":
        return _severity_feed(site, parts["severity"]) if parts["severity"] in SEVERITIES else None
    return _all_feed(site)


def _all_feed(site: Site) -> Feed:
    changes, _ = site.changes(limit=ENTRIES)
    subtitle = "Substantive changes to the policies of every AI platform policywatch watches."
    return Feed("feeds/changes", "policywatch: every policy change", subtitle, "/", "/api/v1/changes", changes)


def _severity_feed(site: Site, severity: str) -> Feed:
    changes, _ = site.changes(min_severity=severity, limit=ENTRIES)
    return Feed(
        f"feeds/severity/{severity}",
        f"policywatch: policy changes of {severity} severity or more",
        f"Substantive changes of at least {severity} severity, on every watched AI platform.",
        "/?" + urlencode({"severity": severity}),
        "/api/v1/changes?" + urlencode({"severity": severity}),
        changes,
    )


def _platform_feed(site: Site, platform_id: str) -> Feed | None:
    platform = site.platform(platform_id)
    changes, _ = site.changes(platform=platform_id, limit=ENTRIES)
    if platform is None and not changes:
        return None
    name = platform["name"] if platform else changes[0]["platform_name"]  # a platform retired from the catalog
    return Feed(
        f"feeds/platforms/{platform_id}",
        f"policywatch: {name}",
        f"Substantive changes to {name}'s policies.",
        f"/platforms/{platform_id}",
        "/api/v1/changes?" + urlencode({"platform": platform_id}),
        changes,
    )


def _document_feed(site: Site, platform_id: str, document_id: str) -> Feed | None:
    alerting, _ = site.changes(platform=platform_id, document=document_id, limit=ENTRIES)
    if not alerting and site.document(platform_id, document_id) is None:
        return None
    document = site.entry(platform_id, document_id)
    title = f"{document['platform_name']} {document['document_type']}"
    return Feed(
        f"feeds/documents/{platform_id}/{document_id}",
        f"policywatch: {title}",
        f"Substantive changes to the {title}.",
        f"/documents/{platform_id}/{document_id}",
        f"/api/v1/documents/{platform_id}/{document_id}",
        alerting,
    )


def _category_feed(site: Site, category: str) -> Feed | None:
    label = _labels(site).get(category)
    if label is None:
        return None
    changes, _ = site.changes(category=category, limit=ENTRIES)
    return Feed(
        f"feeds/provisions/{category}",
        f"policywatch: {label}",
        f"Substantive changes touching {label.lower()}, across every watched AI platform.",
        f"/provisions/{category}",
        "/api/v1/changes?" + urlencode({"category": category}),
        changes,
    )


def _labels(site: Site) -> dict[str, str]:
    return {category["id"]: category["label"] for category in site.categories()}


# -- the XML --


def render(feed: Feed, request: Request, self_url: str, labels: dict[str, str]) -> str:
    """The Atom document of ``feed``; ``self_url`` is the address it was asked for."""
    root = ET.Element("feed", {"xmlns": ATOM})
    _text(root, "id", ID_PREFIX + feed.key)
    _text(root, "title", feed.title)
    _text(root, "subtitle", feed.subtitle)
    entries = [_entry(change, request, labels) for change in feed.changes]
    _text(root, "updated", max((stamp for stamp, _ in entries), default=EPOCH))
    author = ET.SubElement(root, "author")
    _text(author, "name", "policywatch")
    _text(author, "uri", request.url("/"))
    ET.SubElement(root, "link", {"rel": "self", "type": "application/atom+xml", "href": self_url})
    ET.SubElement(root, "link", {"rel": "alternate", "type": "text/html", "href": request.url(feed.html_path)})
    if feed.api_path:
        ET.SubElement(
            root, "link", {"rel": "alternate", "type": "application/json", "href": request.url(feed.api_path)}
        )
    _text(root, "generator", "policywatch").set("uri", request.url("/"))
    root.extend(entry for _, entry in entries)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")


def _entry(change: dict[str, Any], request: Request, labels: dict[str, str]) -> tuple[str, ET.Element]:
    """One change as an entry, with its ``updated`` instant (the feed's is the newest of them)."""
    entry = ET.Element("entry")
    path = f"/changes/{change['platform']}/{change['document']}/{change['stamp']}"
    updated = rfc3339(change.get("fetched_at"), change["stamp"])
    _text(entry, "id", entry_id(change))
    _text(entry, "title", _title(change))
    _text(entry, "updated", updated)
    _text(entry, "published", updated)
    ET.SubElement(entry, "link", {"rel": "alternate", "type": "text/html", "href": request.url(path)})
    for category in change["categories"]:
        ET.SubElement(entry, "category", {"term": category, "label": labels.get(category, category)})
    _text(entry, "summary", change["summary"])
    _text(entry, "content", content_html(change, request.url(path))).set("type", "html")
    return updated, entry


def entry_id(change: dict[str, Any]) -> str:
    """A change's entry id: the same in every feed and for ever (the change id is the versions' hashes)."""
    return f"{ID_PREFIX}change/{change['platform']}/{change['document']}/{change['change_id']}"


def _title(change: dict[str, Any]) -> str:
    words = change["summary"].split()
    lead = " ".join(words[:TITLE_WORDS]) + ("…" if len(words) > TITLE_WORDS else "")
    return f"{change['platform_name']} {change['document_type']}: {change['severity']} — {lead}"


def content_html(change: dict[str, Any], change_url: str) -> str:
    """The entry's body as HTML: every piece of policy text in it escaped, never markup."""
    e = html.escape
    parts = [f"<p>{e(change['summary'])}</p>", f"<p>Severity: {e(change['severity'])}, {e(_for_users(change))}."]
    if change.get("effective_date"):
        parts.append(f" Takes effect {e(change['effective_date'])}.")
    parts.append("</p>")
    dating = dating_note(change.get("dating"))
    if dating and dating["flag"]:  # the text changed but its date did not (a feed lists no date-only change)
        parts.append(f"<p><strong>{e(dating['text'])}</strong></p>")
    if change.get("provisions"):
        parts.append("<h3>Provisions</h3><ul>")
        parts += [
            f"<li>{e(p['label'])}: {e(p['severity'])} severity, {e(_for_users(p))}</li>" for p in change["provisions"]
        ]
        parts.append("</ul>")
    passages = change.get("passages", [])
    if passages:
        parts.append("<h3>Changed passages</h3>")
        parts += [_passage_html(passage) for passage in passages]
    total = sum(change.get("counts", {}).values())
    more = f"All {total} changed passages" if total > len(passages) else "The change"
    parts.append(f'<p><a href="{e(change_url)}">{more}, with the evidence, on its page</a></p>')
    return "".join(parts)


def _for_users(change_or_provision: dict[str, Any]) -> str:
    return DIRECTIONS.get(change_or_provision["direction"], change_or_provision["direction"])


def _passage_html(passage: dict[str, str]) -> str:
    e = html.escape
    out = [f"<h4>{e(passage['op'].capitalize())}: {e(passage['heading'] or 'untitled section')}</h4>"]
    if passage.get("before"):
        out.append(f"<p>Before:</p><blockquote><del>{e(passage['before'])}</del></blockquote>")
    if passage.get("after"):
        out.append(f"<p>After:</p><blockquote><ins>{e(passage['after'])}</ins></blockquote>")
    return "".join(out)


def rfc3339(moment: str | None, stamp: str = "") -> str:
    """``moment`` (an ISO 8601 instant as recorded) as RFC 3339 in UTC; else the archive stamp's
    instant ("2025-08-29T003202.000Z"); else the epoch. Naive times are UTC, as the archive writes them."""
    for text, parse in ((moment, datetime.fromisoformat), (stamp, _from_stamp)):
        if not text:
            continue
        try:
            parsed = parse(text)
        except ValueError:
            continue
        return clock.iso(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))
    return EPOCH


def _from_stamp(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H%M%S.%fZ").replace(tzinfo=UTC)


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = _NOT_XML.sub("", text)
    return element
