"""What the site shows, read from the read model (``storage.site``), the archive and the catalog.

One ``Site`` per warm web function: the catalog and the documents' health are kept for
``CACHE_SECONDS`` (they change at most once a sweep, and CloudFront caches the pages anyway);
everything else is read per request, one Query or GetItem each. The shapes returned are the
read model's items (docs/site.md lists their fields): pages, feeds and the API share them.

- ``platforms()``: every platform of the catalog with its documents and their health.
- ``document(p, d)``: a document's versions and changes (oldest first) and its provision profile.
- ``changes(...)``: alerting changes, newest first, by platform, category or minimum severity.
- ``change(p, d, stamp)``: a change record, whole (from the archive).
- ``provision(category)``: what each document's current version says of a category, with the
  latest change that touched it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from policywatch.analysis.provisions import taxonomy
from policywatch.catalog import Catalog, Document
from policywatch.fetch.sweep import current_catalog
from policywatch.storage.archive import Archive
from policywatch.storage.documents import DocumentStates
from policywatch.storage.errors import StorageError
from policywatch.storage.site import SEVERITIES, SiteIndex, doc_pk, marks_pk

logger = Logger(child=True)

CACHE_SECONDS = 60.0
FAILING_AFTER = 3  # failed sweeps in a row before a document shows as failing (the operator alert's default)
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass
class _Cached:
    value: Any = None
    at: float = float("-inf")


@dataclass
class Site:
    index: SiteIndex
    archive: Archive
    documents: DocumentStates
    clock: Callable[[], float] = time.monotonic
    _catalog: _Cached = field(default_factory=_Cached)
    _health: _Cached = field(default_factory=_Cached)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- the catalog and health (cached) --

    def catalog(self) -> Catalog:
        return self._cached(self._catalog, lambda: current_catalog(self.archive))

    def health(self) -> dict[str, dict[str, Any]]:
        """document key -> its fetch health: ``status`` ok, failing or waiting (never fetched)."""
        return self._cached(self._health, self._read_health)

    def _cached(self, slot: _Cached, load: Callable[[], Any]) -> Any:
        with self._lock:
            if self.clock() - slot.at < CACHE_SECONDS:
                return slot.value
        value = load()
        with self._lock:
            slot.value, slot.at = value, self.clock()
        return value

    def _read_health(self) -> dict[str, dict[str, Any]]:
        health = {}
        for state in self.documents.all():
            if state.consecutive_failures >= FAILING_AFTER:
                status = "failing"
            elif state.last_success_at:
                status = "ok"
            else:
                status = "waiting"
            health[state.document_key] = {
                "status": status,
                "last_success_at": state.last_success_at,
                "last_change_at": state.last_change_at,
                "consecutive_failures": state.consecutive_failures,
                "last_error": state.last_error if status == "failing" else None,
            }
        return health

    # -- platforms and documents --

    def platforms(self) -> list[dict[str, Any]]:
        health = self.health()
        return [
            {
                "id": platform.id,
                "name": platform.name,
                "operator": platform.operator,
                "homepage": platform.homepage,
                "documents": [self._document_entry(doc, health) for doc in platform.documents],
                "status": _worst(health.get(doc.key, {}).get("status", "waiting") for doc in platform.documents),
            }
            for platform in self.catalog().platforms
        ]

    def platform(self, platform_id: str) -> dict[str, Any] | None:
        return next((p for p in self.platforms() if p["id"] == platform_id), None)

    def _document_entry(self, doc: Document, health: dict[str, dict[str, Any]]) -> dict[str, Any]:
        return {
            "platform": doc.platform,
            "document": doc.id,
            "document_type": doc.type,
            "url": doc.pages[0].url,
            "fetched_by": "browser" if doc.render == "browser" else "http",
            "health": health.get(doc.key, {"status": "waiting"}),
        }

    def document(self, platform_id: str, document_id: str) -> dict[str, Any] | None:
        """The document (catalog entry and health), its versions and changes oldest first, its profile.

        A document the catalog no longer lists but the archive has is still shown (its history
        is evidence); one neither knows is None.
        """
        items, _ = self.index.query(doc_pk(platform_id, document_id))
        entry = self._catalog_entry(platform_id, document_id)
        if entry is None and not items:
            return None
        versions = [item for item in items if "key" in item and "change" in item]
        changes = [item for item in items if "change_id" in item]
        profile = next((item for item in items if "marks" in item), None)
        if entry is None:
            first = changes[0] if changes else {}
            entry = {
                "platform": platform_id,
                "document": document_id,
                "document_type": first.get("document_type", document_id.replace("-", " ").title()),
                "url": versions[-1]["source_url"] if versions else "",
                "fetched_by": "http",
                "health": {"status": "retired"},
            }
        name = self._platform_name(platform_id)
        return {**entry, "platform_name": name, "versions": versions, "changes": changes, "profile": profile}

    def entry(self, platform_id: str, document_id: str) -> dict[str, Any]:
        """A document as the catalog names it (its platform's name, its type), without its history."""
        entry = self._catalog_entry(platform_id, document_id) or {"platform": platform_id, "document": document_id}
        document_type = entry.get("document_type") or document_id.replace("-", " ").title()
        return {**entry, "platform_name": self._platform_name(platform_id), "document_type": document_type}

    def version(self, platform_id: str, document_id: str, stamp: str) -> dict[str, Any] | None:
        """One archived version, its neighbours and its provision marks, without the document's
        whole history: a version page reads the same few items however many versions there are."""
        pk = doc_pk(platform_id, document_id)
        version = self.index.get(pk, f"v#{stamp}")
        if version is None:
            return None
        older, newer = self.index.around(pk, f"v#{stamp}", "v#")
        marks = self.index.get(marks_pk(platform_id, document_id), stamp)
        return {
            "doc": self.entry(platform_id, document_id),
            "version": version,
            "older": older,
            "newer": newer,
            "marks": marks["marks"] if marks is not None else None,  # None: a version indexed before marks were
        }

    def version_item(self, platform_id: str, document_id: str, stamp: str) -> dict[str, Any] | None:
        """One version's item alone (hashes, fetch time, size): one GetItem."""
        return self.index.get(doc_pk(platform_id, document_id), f"v#{stamp}")

    def change_neighbours(
        self, platform_id: str, document_id: str, stamp: str
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The document's recorded changes just before and after the one at ``stamp``."""
        return self.index.around(doc_pk(platform_id, document_id), f"c#{stamp}", "c#")

    def _catalog_entry(self, platform_id: str, document_id: str) -> dict[str, Any] | None:
        for platform in self.catalog().platforms:
            if platform.id == platform_id:
                for doc in platform.documents:
                    if doc.id == document_id:
                        return self._document_entry(doc, self.health())
        return None

    def _platform_name(self, platform_id: str) -> str:
        return next((p.name for p in self.catalog().platforms if p.id == platform_id), platform_id)

    # -- changes --

    def changes(
        self,
        *,
        platform: str | None = None,
        document: str | None = None,
        category: str | None = None,
        min_severity: str | None = None,
        document_type: str | None = None,
        limit: int = PAGE_SIZE,
        cursor: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Alerting changes, newest first, matching every filter given; and the next page's cursor.

        The feed partition read is the most selective the filters name (a document, a platform,
        then a category, then a severity); the other filters are applied to what it holds.
        """
        if platform and document:
            pk = f"feed#document#{platform}/{document}"
        elif platform:
            pk = f"feed#platform#{platform}"
        elif category:
            pk = f"feed#category#{category}"
        elif min_severity:
            pk = f"feed#min#{min_severity}"
        else:
            pk = "feed#all"

        def wanted(change: dict[str, Any]) -> bool:
            return (
                (not category or category in change["categories"])
                and (not min_severity or _rank(change["severity"]) >= _rank(min_severity))
                and (not document_type or change["document_type"] == document_type)
            )

        limit = max(1, min(limit, MAX_PAGE_SIZE))
        found: list[dict[str, Any]] = []
        while True:
            page, cursor = self.index.query(pk, newest_first=True, limit=limit - len(found), cursor=cursor)
            found += [change for change in page if wanted(change)]
            if len(found) >= limit or cursor is None:
                return found, cursor

    def change(self, platform_id: str, document_id: str, stamp: str) -> dict[str, Any] | None:
        """The whole change record (every passage, provisions, evidence), or None."""
        raw = _read(self.archive, f"changes/{platform_id}/{document_id}/{stamp}.json")
        return json.loads(raw) if raw is not None else None

    def version_text(self, platform_id: str, document_id: str, stamp: str) -> str | None:
        raw = _read(self.archive, f"versions/{platform_id}/{document_id}/{stamp}.md")
        return raw.decode() if raw is not None else None

    # -- provisions --

    @staticmethod
    def categories() -> list[dict[str, str]]:
        found = taxonomy()
        return [{"id": category, "label": found.label(category)} for category in found.categories]

    def provision(self, category: str) -> list[dict[str, Any]]:
        """Each document's current text on ``category`` (those that say something first), with
        the latest alerting change of the document that touched the category."""
        rows, _ = self.index.query(f"provision#{category}")
        latest: dict[str, dict[str, Any]] = {}
        changes, _ = self.index.query(f"feed#category#{category}", newest_first=True)
        for change in changes:
            latest.setdefault(f"{change['platform']}/{change['document']}", change)
        for row in rows:
            row["latest_change"] = latest.get(f"{row['platform']}/{row['document']}")
        return sorted(rows, key=lambda row: (not row["quotes"], row["platform_name"].lower(), row["document"]))


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1


def _worst(statuses: Any) -> str:
    order = ("failing", "waiting", "ok")
    found = set(statuses)
    return next((status for status in order if status in found), "waiting")


def _read(archive: Archive, key: str) -> bytes | None:
    """The object, or None when it is missing (or forbidden: S3's answer to a reader that may not list)."""
    try:
        return archive.get(key)
    except StorageError as exc:
        if exc.missing:
            return None
        if exc.forbidden:  # without s3:ListBucket a missing key is a 403: a grant gone from the template
            logger.warning("S3 refused a public page's key; answering 404", extra={"key": key, "code": exc.code})
            return None
        raise
