"""The site's HTML pages, server-rendered from the read model (``web.site``): one function per page type.

    /                                           home: platforms and their health, latest changes, filters
    /platforms/{platform}                       its documents and its governance timeline
    /timeline/{category}                        one provision category's timeline across platforms
    /provisions, /provisions/{category}         how every watched platform's current text handles it
    /documents/{platform}/{document}            its versions, its current text with provisions marked
    /documents/{p}/{d}/versions/{stamp}         one archived version, readable
    /documents/{p}/{d}/compare?from=&to=        any two versions compared by the diff engine
    /changes/{platform}/{document}/{stamp}      a change: every passage, provisions, evidence
    /pro/changes/..., /pro/timeline/{category}  the same with the regulatory mapping (signed links)
    /static/site.css, /static/site.js
    /versions/{p}/{d}/{stamp}.md                the archived version byte for byte (``pages.version_file``)

Each page makes one or two reads of the site (the platform page one per document, in parallel).
A path of another shape is not ours (None: the handler answers 404); an unknown platform,
document, version, change or category is a 404 page; a malformed query value a 400.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from policywatch.analysis.assess import analyse
from policywatch.analysis.provisions import regulatory_mapping
from policywatch.analysis.site import profile
from policywatch.storage.site import SEVERITIES, CursorError
from policywatch.web import pages, timeline
from policywatch.web.pages import (
    ARCHIVED_CACHE,
    COMPARE_CACHE,
    PAGE_CACHE,
    PRIVATE,
    PageResponse,
    bad_request,
    message,
    not_found,
)
from policywatch.web.render import change_view, page, platform_health, static, text_view, when
from policywatch.web.request import Request
from policywatch.web.site import Site

HOME_CHANGES = 20
TIMELINE_CHANGES = 1000  # a category timeline reads at most this many changes (five pages of the feed)
MAX_QUERY_CHARS = 1000
_PART = r"[a-z0-9][a-z0-9-]{0,80}"
_STAMP = r"\d{4}-\d{2}-\d{2}T\d{6}\.\d{3}Z"
_DOC = rf"(?P<platform>{_PART})/(?P<document>{_PART})"
STAMP = re.compile(rf"^{_STAMP}$")

Page = Callable[..., PageResponse]


def route(site: Site, request: Request) -> PageResponse | None:
    """The page at ``request.path``, or None when the path is not a page's."""
    for pattern, view in _ROUTES:
        matched = pattern.match(request.path)
        if matched:
            return view(site, request, **matched.groupdict())
    return None


# -- home --


def home(site: Site, request: Request) -> PageResponse:
    platforms = site.platforms()
    chosen, problem = _filters(site, request.query, platforms)
    if problem:
        return bad_request(problem)
    cursor = request.query.get("cursor") or None
    try:
        changes, next_cursor = site.changes(**chosen, limit=HOME_CHANGES, cursor=cursor)
    except CursorError as exc:
        return bad_request(str(exc))
    query = {key: value for key, value in request.query.items() if key != "cursor" and value}
    return page(
        "home.html",
        title="Policy changes of AI platforms",
        platforms=platforms,
        changes=changes,
        chosen=chosen,
        query=query,
        next_url="/?" + urlencode({**query, "cursor": next_cursor}) if next_cursor else None,
        first_url=("/?" + urlencode(query)) if cursor else None,
        document_types=sorted({d["document_type"] for p in platforms for d in p["documents"]}),
        categories=site.categories(),
        severities=SEVERITIES,
        feed=_changes_feed(chosen),
        api="/api/v1/changes" + ("?" + urlencode(query) if query else ""),
    )


# The query's names (the API's: /api/v1/changes) and the argument of ``Site.changes`` each is.
_FILTER_NAMES = {"platform": "platform", "type": "document_type", "category": "category", "severity": "min_severity"}


def _filters(
    site: Site, query: dict[str, str], platforms: list[dict[str, Any]]
) -> tuple[dict[str, str | None], str | None]:
    """The home page's filters, by the names ``Site.changes`` takes; or the one line saying which is wrong."""
    known = {
        "platform": {p["id"] for p in platforms},
        "type": {d["document_type"] for p in platforms for d in p["documents"]},
        "category": {c["id"] for c in site.categories()},
        "severity": set(SEVERITIES),
    }
    chosen: dict[str, str | None] = {}
    for name, argument in _FILTER_NAMES.items():
        value = query.get(name) or None
        if value is not None and value not in known[name]:
            return {}, f"{name} must be one of the values the form offers"
        chosen[argument] = value
    if len(query.get("cursor", "")) > MAX_QUERY_CHARS:
        return {}, "the cursor is not one this site gave"
    return chosen, None


def _changes_feed(chosen: dict[str, str | None]) -> str:
    """The Atom feed that lists what the home page lists (as near as one does)."""
    if chosen.get("platform"):
        return f"/feeds/platforms/{chosen['platform']}.atom"
    if chosen.get("category"):
        return f"/feeds/provisions/{chosen['category']}.atom"
    if chosen.get("min_severity"):
        return f"/feeds/severity/{chosen['min_severity']}.atom"
    return "/feeds/changes.atom"


# -- platforms and timelines --


def platform_page(site: Site, request: Request, platform: str) -> PageResponse:
    entry = site.platform(platform)
    if entry is None:
        return not_found("platform")
    ids = [doc["document"] for doc in entry["documents"]]
    with ThreadPoolExecutor(max_workers=min(8, max(len(ids), 1))) as pool:  # one Query each, at once
        found = list(pool.map(lambda document: site.document(platform, document), ids))
    documents = [doc for doc in found if doc is not None]
    labels = _labels(site)
    codes = timeline.category_codes(labels)
    lanes = [
        timeline.Lane(
            doc["document_type"],
            [timeline.marker(change, _change_path(change)) for change in doc["changes"]],
            href=f"/documents/{platform}/{doc['document']}",
            note="no change recorded yet" if doc["versions"] else "no version archived yet",
        )
        for doc in documents
    ]
    moments = [when(v["fetched_at"]) for doc in documents for v in doc["versions"][:1]]
    changes = sorted((c for doc in documents for c in doc["changes"]), key=lambda c: c["stamp"], reverse=True)
    svg = timeline.svg(
        lanes,
        codes=codes,
        start=min((m for m in moments if m), default=None),
        title=f"{entry['name']}: governance timeline",
    )
    return page(
        "platform.html",
        title=f"{entry['name']}: policies and governance timeline",
        platform=entry,
        documents=documents,
        health=platform_health(documents),
        timeline=svg,
        changes=changes,
        legend=timeline.legend(changes, codes, labels),
        feed=f"/feeds/platforms/{platform}.atom",
    )


def category_timeline(site: Site, request: Request, category: str, pro: bool = False) -> PageResponse:
    labels = _labels(site)
    if category not in labels:
        return not_found("provision category")
    changes: list[dict[str, Any]] = []
    cursor = None
    while len(changes) < TIMELINE_CHANGES:
        batch, cursor = site.changes(category=category, limit=200, cursor=cursor)
        changes += batch
        if cursor is None:
            break
    suffix = f"?{request.pro_query}" if pro else ""
    lanes: dict[str, timeline.Lane] = {}
    for change in sorted(changes, key=lambda c: (c["platform_name"].lower(), c["document_type"], c["stamp"])):
        key = f"{change['platform']}/{change['document']}"
        lane = lanes.get(key) or timeline.Lane(
            change["platform_name"], [], href=f"/documents/{key}", sublabel=change["document_type"]
        )
        marker = timeline.marker(change, ("/pro" if pro else "") + _change_path(change) + suffix, category)
        lanes[key] = replace(lane, markers=[*lane.markers, marker])
    label = labels[category]
    codes = timeline.category_codes(labels)
    svg = timeline.svg(list(lanes.values()), codes=codes, title=f"{label}: timeline across platforms")
    mapping = regulatory_mapping(category, checks=True) if pro else None
    return page(
        "timeline.html",
        cache=PRIVATE if pro else PAGE_CACHE,
        title=f"{label}: changes across platforms" + (" (Professional)" if pro else ""),
        category={"id": category, "label": label},
        timeline=svg,
        changes=sorted(changes, key=lambda c: c["stamp"], reverse=True),
        lanes=len(lanes),
        mapping=mapping,
        checks=(mapping or {}).get("checks", []),
        pro=pro,
        pro_query=request.pro_query if pro else "",
        feed=f"/feeds/provisions/{category}.atom",
    )


def pro_timeline(site: Site, request: Request, category: str) -> PageResponse:
    if request.pro is None:  # the handler checked the link: no page without it
        return message(403, "Link not valid", "The Professional view opens from the link in your alerts.")
    return category_timeline(site, request, category, pro=True)


# -- provisions --


def provisions_index(site: Site, request: Request) -> PageResponse:
    title = "Provisions: how AI platforms handle each matter"
    return page("provisions.html", title=title, categories=site.categories(), feed="/feeds/changes.atom")


def provision_page(site: Site, request: Request, category: str) -> PageResponse:
    labels = _labels(site)
    if category not in labels:
        return not_found("provision category")
    rows = site.provision(category)
    saying = [row for row in rows if row["quotes"]]
    platforms = len({row["platform"] for row in saying})
    label = labels[category]
    return page(
        "provision.html",
        title=f"How {platforms} AI {'platform describes' if platforms == 1 else 'platforms describe'} {label[:1].lower()}{label[1:]}",
        category={"id": category, "label": label},
        saying=saying,
        silent=[row for row in rows if not row["quotes"]],
        feed=f"/feeds/provisions/{category}.atom",
    )


# -- documents and versions --


def document_page(site: Site, request: Request, platform: str, document: str) -> PageResponse:
    doc = site.document(platform, document)
    if doc is None:
        return not_found("document")
    shown = doc["profile"]
    text = site.version_text(platform, document, shown["stamp"]) if shown else None
    lane = timeline.Lane(doc["document_type"], [timeline.marker(c, _change_path(c)) for c in doc["changes"]])
    first = when(doc["versions"][0]["fetched_at"]) if doc["versions"] else None
    labels = _labels(site)
    return page(
        "document.html",
        title=f"{doc['platform_name']} {doc['document_type']}: versions and current text",
        doc=doc,
        versions=list(reversed(doc["versions"])),
        substantive=sum(1 for change in doc["changes"] if change["kind"] == "substantive"),
        shown=shown,
        **text_view(text, shown["marks"] if shown else [], labels),
        timeline=timeline.svg(
            [lane], codes=timeline.category_codes(labels), start=first, title=f"{doc['document_type']}: timeline"
        ),
        feed=f"/feeds/documents/{platform}/{document}.atom",
    )


def version_page(site: Site, request: Request, platform: str, document: str, stamp: str) -> PageResponse:
    found = site.version(platform, document, stamp)
    text = site.version_text(platform, document, stamp) if found else None
    if found is None or text is None:
        return not_found("version")
    marks = found["marks"] if found["marks"] is not None else profile(text)["marks"]
    newer = found["newer"]
    return page(
        "version.html",
        cache=ARCHIVED_CACHE if newer else PAGE_CACHE,  # a version with a successor never changes again
        title=f"{found['doc']['platform_name']} {found['doc']['document_type']} as archived on {_day(stamp)}",
        doc=found["doc"],
        version=found["version"],
        older=found["older"],
        newer=newer,
        **text_view(text, marks, _labels(site)),
        feed=f"/feeds/documents/{platform}/{document}.atom",
    )


def compare_page(site: Site, request: Request, platform: str, document: str) -> PageResponse:
    old_stamp, new_stamp = request.query.get("from", ""), request.query.get("to", "")
    if not (STAMP.match(old_stamp) and STAMP.match(new_stamp)):
        return bad_request("from and to must each be a version's stamp, such as 2025-08-29T003202.000Z")
    if old_stamp == new_stamp:
        return bad_request("from and to are the same version: choose two")
    old_stamp, new_stamp = sorted((old_stamp, new_stamp))  # the older first, whichever way they came
    old_version = site.version_item(platform, document, old_stamp)
    new_version = site.version(platform, document, new_stamp)  # with its predecessor: is the pair recorded?
    if old_version is None or new_version is None:
        return not_found("version")
    doc = new_version["doc"]
    old_text = site.version_text(platform, document, old_stamp)
    new_text = site.version_text(platform, document, new_stamp)
    if old_text is None or new_text is None:
        return not_found("version")
    record = {
        **analyse(old_text, new_text).to_dict(),
        "platform": platform,
        "platform_name": doc["platform_name"],
        "document": document,
        "document_type": doc["document_type"],
        "evidence": {"previous": old_version, "current": new_version["version"]},
    }
    consecutive = (new_version["older"] or {}).get("stamp") == old_stamp
    title = f"{doc['platform_name']} {doc['document_type']}: {_day(old_stamp)} compared with {_day(new_stamp)}"
    return page(
        "change.html",
        cache=COMPARE_CACHE,
        title=title,
        heading=title,
        c=record,
        view=change_view(record, _labels(site)),
        doc=doc,
        compare={
            "from": old_stamp,
            "to": new_stamp,
            "recorded": _change_path(record, new_stamp) if consecutive else None,
        },
        older=None,
        newer=None,
        pro=False,
        pro_query="",
        feed=f"/feeds/documents/{platform}/{document}.atom",
    )


# -- changes --


def change_page(
    site: Site, request: Request, platform: str, document: str, stamp: str, pro: bool = False
) -> PageResponse:
    record = site.change(platform, document, stamp)
    if record is None:
        return not_found("change")
    older, newer = site.change_neighbours(platform, document, stamp)
    view = change_view(record, _labels(site))
    if pro:
        for provision in view["provisions"]:
            provision["checks"] = regulatory_mapping(provision["id"], checks=True).get("checks", [])
    what = f"{record['platform_name']} changed its {record['document_type']}"
    return page(
        "change.html",
        cache=PRIVATE if pro else PAGE_CACHE,
        title=f"{what} on {_day(stamp)}" + (" (Professional)" if pro else ""),
        heading=what,
        c={**record, "stamp": stamp},
        view=view,
        compare=None,
        older=older,
        newer=newer,
        pro=pro,
        pro_query=request.pro_query if pro else "",
        feed=f"/feeds/documents/{platform}/{document}.atom",
    )


def pro_change_page(site: Site, request: Request, platform: str, document: str, stamp: str) -> PageResponse:
    if request.pro is None:  # the handler checked the link: no page without it
        return message(403, "Link not valid", "The Professional view opens from the link in your alerts.")
    return change_page(site, request, platform, document, stamp, pro=True)


def version_file(site: Site, request: Request, platform: str, document: str, stamp: str) -> PageResponse:
    """The raw archived version (``pages.version_file``), whichever of the handler's routes reached here."""
    return pages.version_file(site.archive, f"versions/{platform}/{document}/{stamp}.md")


def static_file(site: Site, request: Request, name: str) -> PageResponse:
    return static(name) or not_found("file")


# -- helpers --


def _labels(site: Site) -> dict[str, str]:
    return {category["id"]: category["label"] for category in site.categories()}


def _change_path(change: dict[str, Any], stamp: str | None = None) -> str:
    return f"/changes/{change['platform']}/{change['document']}/{stamp or change['stamp']}"


def _day(stamp: str) -> str:
    found = when(stamp)
    return f"{found.day} {found:%b %Y}" if found else stamp


_ROUTES: tuple[tuple[re.Pattern[str], Page], ...] = (
    (re.compile(r"^/$"), home),
    (re.compile(rf"^/platforms/(?P<platform>{_PART})$"), platform_page),
    (re.compile(rf"^/timeline/(?P<category>{_PART})$"), category_timeline),
    (re.compile(r"^/provisions$"), provisions_index),
    (re.compile(rf"^/provisions/(?P<category>{_PART})$"), provision_page),
    (re.compile(rf"^/documents/{_DOC}$"), document_page),
    (re.compile(rf"^/documents/{_DOC}/versions/(?P<stamp>{_STAMP})$"), version_page),
    (re.compile(rf"^/documents/{_DOC}/compare$"), compare_page),
    (re.compile(rf"^/changes/{_DOC}/(?P<stamp>{_STAMP})$"), change_page),
    (re.compile(rf"^/pro/changes/{_DOC}/(?P<stamp>{_STAMP})$"), pro_change_page),
    (re.compile(rf"^/pro/timeline/(?P<category>{_PART})$"), pro_timeline),
    (re.compile(rf"^/versions/{_DOC}/(?P<stamp>{_STAMP})\.md$"), version_file),
    (re.compile(r"^/static/(?P<name>[a-z]+\.[a-z]+)$"), static_file),
)
