"""The fetch stage's rules: fetch a document's pages, extract, and archive what changed.

Writes happen in a fixed order (snapshot, version, then state) so a crash at any point
leaves the archive consistent: at worst the next run writes an identical version again,
which the diff stage recognises as no change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aws_lambda_powertools import Logger

from policywatch import clock
from policywatch.archive import Archive, key_for, sha256
from policywatch.catalog import Document
from policywatch.config import Settings
from policywatch.extract import EXTRACTOR_VERSION, ExtractionError, check_text, extract, fingerprint, normalise
from policywatch.fetcher import FetchError, FetchResult, fetch
from policywatch.state import RECENT_FINGERPRINTS, DocumentState, DocumentStates

logger = Logger(child=True)


@dataclass(frozen=True)
class Outcome:
    """What one fetch of one document did."""

    document_key: str
    status: str  # new-version | unchanged | not-modified | failed | needs-browser
    version_key: str | None = None
    error: str | None = None


def archive_document(
    document: Document, *, archive: Archive, states: DocumentStates, settings: Settings, now: datetime | None = None
) -> Outcome:
    """Fetch ``document`` and archive a new version if its text changed.

    A retryable fetch failure (network, 429, 5xx) is recorded and re-raised so the queue
    retries it; anything else is recorded as a failure of this document and returned.
    """
    now = now or clock.now()
    state = states.get(document.key)
    if document.render == "browser":
        return _fail(
            states, state, now, "needs-browser", "this page only renders with scripts; it needs a browser renderer"
        )
    try:
        results = _fetch_pages(document, state, settings)
        if results is None:
            state.last_success_at = clock.iso(now)
            state.consecutive_failures = 0
            state.last_error = None
            states.put(state)
            return Outcome(document.key, "not-modified")
        text = "\n\n".join(
            extract(result.body, page.select, page.remove) for page, result in zip(document.pages, results, strict=True)
        )
        check_text(text, min_chars=settings.min_text_chars, previous_chars=state.text_chars)
    except FetchError as exc:
        _fail(states, state, now, "fetch-failed", str(exc))
        if exc.retryable:
            raise
        return Outcome(document.key, "failed", error=str(exc))
    except ExtractionError as exc:
        return _fail(states, state, now, exc.kind, exc.detail)
    return _record(document, results, text, archive=archive, states=states, state=state, now=now)


def _fetch_pages(document: Document, state: DocumentState, settings: Settings) -> list[FetchResult] | None:
    """Every page of the document, or None when a single-page document is unchanged (304)."""
    single = len(document.pages) == 1
    results = []
    for page in document.pages:
        result = fetch(
            page.url,
            validators=state.validators if single and state.fingerprint else None,
            user_agent=settings.user_agent,
            max_bytes=settings.max_page_bytes,
            timeout=(settings.connect_timeout, settings.read_timeout),
        )
        if result.not_modified:
            return None
        results.append(result)
    return results


def _record(
    document: Document,
    results: list[FetchResult],
    text: str,
    *,
    archive: Archive,
    states: DocumentStates,
    state: DocumentState,
    now: datetime,
) -> Outcome:
    raw_sha = sha256(b"".join(r.body for r in results))
    fp = fingerprint(text)
    source_url = " ".join(r.final_url for r in results)
    meta = {
        "source-url": source_url,
        "fetched-at": clock.iso(now),
        "http-status": ",".join(str(r.status) for r in results),
        "extractor-version": EXTRACTOR_VERSION,
    }
    if raw_sha != state.raw_sha256:
        for index, result in enumerate(results):
            suffix = "html" if index == 0 else f"{index}.html"
            archive.put(
                key_for("snapshots", document.key, now, suffix),
                result.body,
                result.content_type or "text/html",
                {**meta, "source-url": result.final_url, "sha256": sha256(result.body)},
            )
    version_key = None
    if fp != state.fingerprint:
        body = text.encode()
        version_key = key_for("versions", document.key, now, "md")
        archive.put(
            version_key,
            body,
            "text/markdown; charset=utf-8",
            {**meta, "sha256": sha256(body), "fingerprint": fp, "document-type": document.type},
        )
        state.last_change_at = clock.iso(now)
        state.last_version_key = version_key
        state.recent_fingerprints = ([fp] + [f for f in state.recent_fingerprints if f != fp])[:RECENT_FINGERPRINTS]
    state.fingerprint = fp
    state.raw_sha256 = raw_sha
    state.text_chars = len(normalise(text))
    if len(results) == 1:
        state.etag = results[0].validators.etag
        state.last_modified = results[0].validators.last_modified
    state.last_success_at = clock.iso(now)
    state.consecutive_failures = 0
    state.last_error = None
    states.put(state)
    logger.info("document fetched", extra={"document": document.key, "changed": bool(version_key)})
    return Outcome(document.key, "new-version" if version_key else "unchanged", version_key=version_key)


def _fail(states: DocumentStates, state: DocumentState, now: datetime, kind: str, detail: str) -> Outcome:
    state.consecutive_failures += 1
    state.last_error = f"{clock.iso(now)} {kind}: {detail}"
    states.put(state)
    logger.warning("document not archived", extra={"document": state.document_key, "failure": kind, "detail": detail})
    return Outcome(
        state.document_key, "needs-browser" if kind == "needs-browser" else "failed", error=f"{kind}: {detail}"
    )
