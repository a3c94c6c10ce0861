"""Rebuild versions from stored snapshots after a declaration or extractor change.

When a page's layout changed and its selector broke, the sweep kept the raw page (a
snapshot is stored whenever the raw bytes change, before extraction) but archived no
version. After the declaration is fixed, ``policywatch reextract`` extracts the latest
snapshot of each document again, exactly as the fetch stage would, and archives the text
as a new version marked ``origin: reextract``. The diff stage records such a change as
``technical``: it is in the history, and nobody is alerted about our own fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from policywatch.catalog import Document
from policywatch.core import clock
from policywatch.fetch.extraction.checks import EXTRACTOR_VERSION, ExtractionError, check_text
from policywatch.fetch.extraction.pages import declaration_hash, document_text
from policywatch.fetch.settings import ArchivistSettings
from policywatch.storage.archive import STAMP_WIDTH, Archive
from policywatch.storage.documents import DocumentState, DocumentStates
from policywatch.text.noise import fingerprint, normalise


@dataclass(frozen=True)
class Rebuilt:
    document_key: str
    status: str  # rebuilt | unchanged | no-snapshot | failed
    detail: str = ""
    version_key: str | None = None


def latest_snapshot(archive: Archive, document: Document, *, until: str | None = None) -> list[str]:
    """The keys of the most recent snapshot's pages, in page order (``{stamp}.html``, ``{stamp}.1.html``...).

    With ``until`` (a stamp), the most recent snapshot taken at or before it: the raw page a
    version of that stamp was extracted from (a snapshot is stored only when the bytes change).
    """

    def name(key: str) -> str:
        return key.rsplit("/", 1)[1]

    keys = [k for k in archive.keys(f"snapshots/{document.key}/") if until is None or name(k)[:STAMP_WIDTH] <= until]
    if not keys:
        return []
    latest = name(keys[-1])[:STAMP_WIDTH]
    pages = [k for k in keys if name(k)[:STAMP_WIDTH] == latest]

    def page_index(key: str) -> int:
        rest = name(key)[STAMP_WIDTH:].split(".")  # ['', 'html'] or ['', '1', 'html']
        return int(rest[1]) if len(rest) == 3 and rest[1].isdigit() else 0

    return sorted(pages, key=page_index)


def reextract(
    document: Document,
    *,
    archive: Archive,
    states: DocumentStates,
    settings: ArchivistSettings,
    now: datetime | None = None,
) -> Rebuilt:
    """Extract ``document``'s latest snapshot with its current declaration; archive it if the text differs."""
    keys = latest_snapshot(archive, document)
    if not keys:
        return Rebuilt(document.key, "no-snapshot", "nothing stored yet: the next sweep fetches it")
    return rebuild(document, keys, archive=archive, states=states, settings=settings, now=now)


def rebuild(
    document: Document,
    keys: list[str],
    *,
    archive: Archive,
    states: DocumentStates,
    settings: ArchivistSettings,
    now: datetime | None = None,
    state: DocumentState | None = None,
) -> Rebuilt:
    """Extract the snapshot pages ``keys``; archive the text as a technical version if it differs.

    ``state`` (updated in place and stored) is the caller's copy of the document's state.
    """
    now = now or clock.now()
    pages, fetched_at = [], ""
    for key in keys:
        head = archive.head(key) or {}
        meta = head.get("Metadata", {})
        fetched_at = fetched_at or meta.get("fetched-at", "")  # the first page's
        content_type = head.get("ContentType", "text/html").split(";")[0]
        pages.append((archive.get(key), content_type, meta.get("source-url", document.pages[0].url)))
    state = state or states.get(document.key)
    try:
        text = document_text(document, pages)
        normalised = normalise(text)
        check_text(text, min_chars=settings.min_text_chars, previous_chars=state.text_chars, normalised=normalised)
    except ExtractionError as exc:
        return Rebuilt(document.key, "failed", f"{exc.kind}: {exc.detail} (snapshot {keys[0]})")
    fp = fingerprint(text, normalised=normalised)
    if fp == state.fingerprint:
        return Rebuilt(document.key, "unchanged", f"snapshot {keys[0]} gives the archived text")
    version_key = archive.put_version(
        document.key,
        now,
        text,
        {
            "source-url": " ".join(url for _, _, url in pages),
            "fetched-at": fetched_at,
            "fingerprint": fp,
            "document-type": document.type,
            "extractor-version": EXTRACTOR_VERSION,
            "origin": "reextract",
            "snapshot-key": keys[0],
            "reextracted-at": clock.iso(now),
        },
    )
    state.record_extraction(fp, len(normalised), declaration_hash(document), EXTRACTOR_VERSION, version_key)
    state.extracted_sha256 = None  # the next sweep extracts again, with this declaration
    states.put(state)
    return Rebuilt(document.key, "rebuilt", f"from snapshot {keys[0]}", version_key)
