"""The JSON API under ``/api/v1/``: what the pages show, for programs (``openapi.json`` beside this module).

Every answer is JSON: a 200 with what was asked for, or ``{"error": "<one line>"}`` with a 400
(a filter, limit or cursor we cannot take), a 404 (nothing there) or a 503 (storage did not
answer; ``Retry-After``). Lists that can grow are pages: ``{"items": [...], "next": <URL or null>}``
and a ``Link: <...>; rel="next"`` header, the next page's URL keeping the filters. Every item
links to itself, absolutely: ``links.html`` (its page) and ``links.api`` (this API). The web
handler adds the ETag (If-None-Match answers 304) and Cache-Control (``API_CACHE`` on a 200).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

from aws_lambda_powertools import Logger

from policywatch.core.errors import InputError, TransientError
from policywatch.storage.site import SEVERITIES, doc_pk
from policywatch.web.pages import API_CACHE, PageResponse
from policywatch.web.request import Request
from policywatch.web.site import MAX_PAGE_SIZE, PAGE_SIZE, Site

logger = Logger(child=True)

PREFIX = "/api/v1"
CONTENT_TYPE = "application/json"
RETRY_AFTER = "60"
MAX_CURSOR_CHARS = 1000  # ours are a partition and a sort key, base64: a few hundred characters

Json = dict[str, Any]
Handler = Callable[..., PageResponse]


class ApiError(InputError):
    """A request the API refuses: its status (400, 404) and one line saying why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# -- routing --


def route(site: Site, request: Request) -> PageResponse | None:
    """The answer to an ``/api/v1/`` path, always JSON; None for any other path."""
    if request.path != PREFIX and not request.path.startswith(PREFIX + "/"):
        return None
    try:
        for pattern, handler in _ROUTES:
            matched = pattern.match(request.path.removeprefix(PREFIX))
            if matched:
                return handler(site, request, **matched.groupdict())
        raise ApiError(404, "no such API route; the routes are in /api/v1/openapi.json")
    except ApiError as exc:
        return error(exc.status, str(exc))
    except InputError as exc:  # a cursor that is not ours (storage.site.CursorError), say
        return error(400, str(exc).splitlines()[0])
    except TransientError as exc:
        logger.warning("API request failed for now", extra={"error": type(exc).__name__, "detail": str(exc)})
        return error(503, "storage did not answer just now; try again in a minute", (("Retry-After", RETRY_AFTER),))


def respond(data: Any, headers: tuple[tuple[str, str], ...] = ()) -> PageResponse:
    # Compact and in insertion order: the same data is the same bytes, so the same ETag.
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return PageResponse(200, body, CONTENT_TYPE, headers, cache=API_CACHE)


def error(status: int, message: str, headers: tuple[tuple[str, str], ...] = ()) -> PageResponse:
    return PageResponse(status, json.dumps({"error": message}, ensure_ascii=False), CONTENT_TYPE, headers)


# -- the routes --


def _index(site: Site, request: Request) -> PageResponse:
    links = {name: request.url(f"{PREFIX}/{name}") for name in ("platforms", "changes", "provisions", "openapi.json")}
    return respond({"links": links})


def _openapi(site: Site, request: Request) -> PageResponse:
    """The OpenAPI document, its server the address this site answers on."""
    return respond({**openapi_document(), "servers": [{"url": request.url(PREFIX)}]})


def _platforms(site: Site, request: Request) -> PageResponse:
    return respond({"items": [_platform(platform, request) for platform in site.platforms()]})


def _platform_one(site: Site, request: Request, platform: str) -> PageResponse:
    found = site.platform(platform)
    if found is None:
        raise ApiError(404, "no watched platform has this id")
    return respond(_platform(found, request))


def _document(site: Site, request: Request, platform: str, document: str) -> PageResponse:
    found = site.document(platform, document)
    if found is None:
        raise ApiError(404, "no such document")
    versions, changes, profile = found["versions"], found["changes"], found["profile"]
    body = _document_entry({k: v for k, v in found.items() if k not in ("versions", "changes", "profile")}, request)
    body["version_count"] = len(versions)
    body["latest_version"] = _version(versions[-1], request) if versions else None
    body["provisions"] = (
        {"stamp": profile["stamp"], "quotes": profile["quotes"], "links": _version_links(profile, request)}
        if profile
        else None
    )
    body["changes"] = [_change(_without_passages(change), request) for change in reversed(changes)]
    return respond(body)


def _versions(site: Site, request: Request, platform: str, document: str) -> PageResponse:
    """A document's archived versions, newest first, a page at a time."""
    limit, cursor = _limit(request), _cursor(request)
    items, following = site.index.query(
        doc_pk(platform, document), prefix="v#", newest_first=True, limit=limit, cursor=cursor
    )
    if not items and cursor is None and site.document(platform, document) is None:
        raise ApiError(404, "no such document")
    return _page([_version(item, request) for item in items], request, {}, limit, following)


def _version_one(site: Site, request: Request, platform: str, document: str, stamp: str) -> PageResponse:
    found = site.index.get(doc_pk(platform, document), f"v#{stamp}")
    if found is None:
        raise ApiError(404, "no such version")
    return respond(_version(found, request))


def _changes(site: Site, request: Request) -> PageResponse:
    """Alerting changes, newest first, filtered by platform, category, minimum severity and document type."""
    filters = _change_filters(site, request)
    limit, cursor = _limit(request), _cursor(request)
    items, following = site.changes(
        platform=filters.get("platform"),
        category=filters.get("category"),
        min_severity=filters.get("severity"),
        document_type=filters.get("type"),
        limit=limit,
        cursor=cursor,
    )
    return _page([_change(item, request) for item in items], request, filters, limit, following)


def _change_one(site: Site, request: Request, platform: str, document: str, stamp: str) -> PageResponse:
    record = site.change(platform, document, stamp)
    if record is None:
        raise ApiError(404, "no such change")
    evidence = record["evidence"]
    links = {
        **_change_links(platform, document, stamp, request),
        "previous_version": request.url("/" + evidence["previous"]["key"]),
        "current_version": request.url("/" + evidence["current"]["key"]),
    }
    return respond({**record, "links": links})


def _provisions(site: Site, request: Request) -> PageResponse:
    return respond({"items": [_category(category, request) for category in site.categories()]})


def _provision(site: Site, request: Request, category: str) -> PageResponse:
    """What each document says of a provision category, with the latest change that touched it."""
    known = next((found for found in site.categories() if found["id"] == category), None)
    if known is None:
        raise ApiError(404, "no provision category has this id")
    rows = [
        {
            **row,
            "latest_change": _change(row["latest_change"], request) if row.get("latest_change") else None,
            "links": _version_links(row, request),
        }
        for row in site.provision(category)
    ]
    return respond({**_category(known, request), "items": rows})


_PART = r"[a-z0-9][a-z0-9-]{0,80}"
_STAMP = r"\d{4}-\d{2}-\d{2}T\d{6}\.\d{3}Z"
_ROUTES: tuple[tuple[re.Pattern[str], Handler], ...] = tuple(
    (re.compile(f"^{pattern}$"), handler)
    for pattern, handler in (
        ("/?", _index),
        ("/openapi.json", _openapi),
        ("/platforms", _platforms),
        (f"/platforms/(?P<platform>{_PART})", _platform_one),
        (f"/documents/(?P<platform>{_PART})/(?P<document>{_PART})", _document),
        (f"/documents/(?P<platform>{_PART})/(?P<document>{_PART})/versions", _versions),
        (f"/documents/(?P<platform>{_PART})/(?P<document>{_PART})/versions/(?P<stamp>{_STAMP})", _version_one),
        ("/changes", _changes),
        (f"/changes/(?P<platform>{_PART})/(?P<document>{_PART})/(?P<stamp>{_STAMP})", _change_one),
        ("/provisions", _provisions),
        (f"/provisions/(?P<category>{_PART})", _provision),
    )
)


@cache
def openapi_document() -> Json:
    """``openapi.json``, read from the package (it ships in the layer beside this module)."""
    return json.loads(resources.files("policywatch.web").joinpath("openapi.json").read_text(encoding="utf-8"))


# -- query parameters --


def _limit(request: Request) -> int:
    raw = request.query.get("limit")
    if raw is None:
        return PAGE_SIZE
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE_SIZE):
        raise ApiError(400, f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}")
    return int(raw)


def _cursor(request: Request) -> str | None:
    """The cursor given, if any; one far longer than any we give is refused before it is decoded."""
    cursor = request.query.get("cursor") or None
    if cursor is not None and len(cursor) > MAX_CURSOR_CHARS:
        raise ApiError(400, "the cursor is not one this site gave")
    return cursor


def _change_filters(site: Site, request: Request) -> dict[str, str]:
    """The filters given, each checked against what exists (in a fixed order: page links keep them)."""
    query, filters = request.query, {}
    if "platform" in query:
        if site.platform(query["platform"]) is None:
            raise ApiError(400, "platform must be the id of a watched platform (see /api/v1/platforms)")
        filters["platform"] = query["platform"]
    if "category" in query:
        if query["category"] not in {category["id"] for category in site.categories()}:
            raise ApiError(400, "category must be a provision category id (see /api/v1/provisions)")
        filters["category"] = query["category"]
    if "severity" in query:
        if query["severity"] not in SEVERITIES:
            raise ApiError(400, "severity must be one of low, medium, high")
        filters["severity"] = query["severity"]
    if "type" in query:
        types = {doc["document_type"] for platform in site.platforms() for doc in platform["documents"]}
        if query["type"] not in types:
            raise ApiError(400, "type must be a document type the catalog lists, such as Privacy Policy")
        filters["type"] = query["type"]
    return filters


def _page(items: list[Json], request: Request, filters: dict[str, str], limit: int, cursor: str | None) -> PageResponse:
    """A page of a list, and the link to the next one (same filters and limit) when there is one."""
    following = None
    if cursor is not None:
        query = {**filters, **({"limit": str(limit)} if "limit" in request.query else {}), "cursor": cursor}
        following = request.url(request.path + "?" + urlencode(query))
    headers = (("Link", f'<{following}>; rel="next"'),) if following else ()
    return respond({"items": items, "next": following}, headers)


# -- items, each with its links --


def _platform(platform: Json, request: Request) -> Json:
    pid = platform["id"]
    links = {
        "html": request.url(f"/platforms/{pid}"),
        "api": request.url(f"{PREFIX}/platforms/{pid}"),
        "feed": request.url(f"/feeds/platforms/{pid}.atom"),
        "changes": request.url(f"{PREFIX}/changes?" + urlencode({"platform": pid})),
    }
    documents = [_document_entry(document, request) for document in platform["documents"]]
    return {**platform, "documents": documents, "links": links}


def _document_entry(document: Json, request: Request) -> Json:
    path = f"{document['platform']}/{document['document']}"
    links = {
        "html": request.url(f"/documents/{path}"),
        "api": request.url(f"{PREFIX}/documents/{path}"),
        "feed": request.url(f"/feeds/documents/{path}.atom"),
        "versions": request.url(f"{PREFIX}/documents/{path}/versions"),
    }
    return {**document, "links": links}


def _version(version: Json, request: Request) -> Json:
    links = _version_links(version, request)
    if version.get("change"):
        links["change"] = request.url(
            f"{PREFIX}/changes/{version['platform']}/{version['document']}/{version['stamp']}"
        )
    return {**version, "links": links}


def _version_links(version: Json, request: Request) -> dict[str, str]:
    """An archived version's links: its page, its API item and its text exactly as recorded."""
    path = f"{version['platform']}/{version['document']}"
    return {
        "html": request.url(f"/documents/{path}/versions/{version['stamp']}"),
        "api": request.url(f"{PREFIX}/documents/{path}/versions/{version['stamp']}"),
        "text": request.url("/" + quote(version["key"])),
    }


def _change(change: Json, request: Request) -> Json:
    return {**change, "links": _change_links(change["platform"], change["document"], change["stamp"], request)}


def _change_links(platform: str, document: str, stamp: str, request: Request) -> dict[str, str]:
    return {
        "html": request.url(f"/changes/{platform}/{document}/{stamp}"),
        "api": request.url(f"{PREFIX}/changes/{platform}/{document}/{stamp}"),
        "document": request.url(f"{PREFIX}/documents/{platform}/{document}"),
    }


def _without_passages(change: Json) -> Json:
    """A document lists every change it had: their passages are in each change record (``links.api``)."""
    return {key: value for key, value in change.items() if key != "passages"}


def _category(category: dict[str, str], request: Request) -> Json:
    cid = category["id"]
    links = {
        "html": request.url(f"/provisions/{cid}"),
        "api": request.url(f"{PREFIX}/provisions/{cid}"),
        "feed": request.url(f"/feeds/provisions/{cid}.atom"),
        "changes": request.url(f"{PREFIX}/changes?" + urlencode({"category": cid})),
    }
    return {**category, "links": links}
