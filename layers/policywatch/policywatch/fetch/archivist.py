"""The fetch stage's rules: fetch a document's pages, keep the evidence, archive what changed.

Writes happen in a fixed order (snapshots, version, then state) so a crash at any point
leaves the archive consistent: at worst the next run writes an identical snapshot or
version again, which the diff stage recognises as no change.

- A raw snapshot is stored whenever the raw page changed, *before* extraction, so a page
  whose selector broke is still kept and can be re-extracted after the fix.
- A version is stored only when the fingerprint of the extracted text changed.
- A failure counts once per sweep (retries of one job do not add up); the N-th sweep in a
  row that fails raises one operator alert, and the first success after it one "recovered".
- A text refused as collapsed on ``COLLAPSE_ACCEPT_AFTER`` sweeps in a row that passes every
  other check is the document's new size (a policy that became a shorter page), with one
  operator notice; ``policywatch accept DOCUMENT`` accepts the next text at once, collapsed
  or carrying an error notice.
- A failure of the archive or the state table after the fetch (S3 or DynamoDB refusing,
  throttling, unreachable) is recorded on the document like any other failure, with a
  one-line reason, then re-raised so the queue retries the job and at last dead-letters it.
  Every change to the state before such a failure follows a write that succeeded, so the
  state recorded with the error still describes what is in the archive.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

from aws_lambda_powertools import Logger

from policywatch.catalog import Document
from policywatch.core import clock
from policywatch.core.errors import ConfigError
from policywatch.core.outbound import AddressError, parse_allowlist
from policywatch.fetch.alerts import OperatorAlerts
from policywatch.fetch.extraction.checks import EXTRACTOR_VERSION, ExtractionError, check_text
from policywatch.fetch.extraction.pages import declaration_hash, document_text
from policywatch.fetch.fetcher import FetchError, FetchResult, RetryPolicy, fetch
from policywatch.fetch.reextract import latest_snapshot, rebuild
from policywatch.fetch.result import Validators
from policywatch.fetch.settings import ArchivistSettings, FetchSettings
from policywatch.storage.archive import STAMP_WIDTH, Archive, key_for, sha256
from policywatch.storage.documents import DocumentState, DocumentStates
from policywatch.storage.errors import StorageError
from policywatch.storage.topics import Topic
from policywatch.text.noise import fingerprint, normalise

if TYPE_CHECKING:  # the render function passes one; the fetch function never loads the renderer
    from policywatch.fetch.render import Renderer

logger = Logger(child=True)


@dataclass(frozen=True)
class FetchOutcome:
    """What one fetch of one document did."""

    document_key: str
    status: str  # new-version | unchanged | not-modified | failed | needs-browser
    version_key: str | None = None
    error: str | None = None
    alert: str | None = None  # failing | recovered, when this fetch raised an operator alert


class Archivist:
    """Fetches documents and archives them; one per Lambda container (its collaborators are reused)."""

    def __init__(
        self,
        *,
        archive: Archive,
        states: DocumentStates,
        settings: ArchivistSettings,
        alerts: OperatorAlerts | None = None,
        renderer: Renderer | None = None,
    ) -> None:
        self.archive = archive
        self.states = states
        self.settings = settings
        self.alerts = alerts
        self.renderer = renderer  # documents declared ``render: browser`` need one
        self.allowlist = fetch_allowlist(settings.fetch_allowlist)

    @classmethod
    def of_function(cls, config: FetchSettings, renderer: Renderer | None = None) -> Archivist:
        """The fetch (or, with a ``renderer``, the render) function's archivist, on its resources."""
        return cls(
            archive=Archive(config.archive_bucket),
            states=DocumentStates(config.documents_table),
            settings=config,
            alerts=OperatorAlerts(Topic(config.operator_topic_arn)) if config.operator_topic_arn else None,
            renderer=renderer,
        )

    def run(
        self,
        document: Document,
        *,
        sweep: str | None = None,
        now: datetime | None = None,
        deadline: float | None = None,
    ) -> FetchOutcome:
        """Fetch ``document`` and archive a new version if its text changed.

        A retryable fetch failure (network, 429, 5xx, the deadline) is recorded and re-raised
        so the queue retries it later, as is a failure of the archive or the state table;
        anything else is recorded as a failure of this document and returned. ``deadline``
        (``time.monotonic()``) bounds the fetch, with at most ``settings.fetch_budget`` seconds.
        """
        now = now or clock.now()
        state = self.states.get(document.key)
        if document.render == "browser" and self.renderer is None:
            return self._fail(
                state, now, sweep, "needs-browser", "this page only renders with scripts; it needs a browser renderer"
            )
        declared = declaration_hash(document)
        try:
            results = self._fetch_pages(document, state, declared, deadline)
        except FetchError as exc:
            outcome = self._fail(state, now, sweep, "fetch-failed", str(exc))
            if exc.retryable:
                raise
            return outcome
        progress = _Progress()
        try:
            return self._archive(document, results, state, declared, now, sweep, progress, deadline)
        except StorageError as error:
            self._archive_failed(state, now, sweep, progress.doing, error)
            raise

    def _archive(
        self,
        document: Document,
        results: list[FetchResult] | None,
        state: DocumentState,
        declared: str,
        now: datetime,
        sweep: str | None,
        progress: _Progress,
        deadline: float | None = None,
    ) -> FetchOutcome:
        """Everything after the fetch: snapshots, extraction, the version and the state."""
        if results is None:
            progress.doing = "saving the document's state"
            outcome = self._succeeded(state, now)
            self.states.put(state)
            return FetchOutcome(document.key, "not-modified", alert=outcome)
        raw_sha = self._keep_snapshots(document, results, state, now)
        progress.doing = "saving the document's state"
        if raw_sha == state.extracted_sha256 and state.declaration == declared:
            # The very bytes last extracted with this declaration: the text cannot differ.
            self._keep_validators(results, state)
            alert = self._succeeded(state, now)
            self.states.put(state)
            return FetchOutcome(document.key, "unchanged", alert=alert)
        try:
            text = document_text(document, [(r.body, r.content_type, r.final_url) for r in results], deadline=deadline)
            normalised = normalise(text)
            checked = check_text(
                text,
                min_chars=self.settings.min_text_chars,
                previous_chars=state.text_chars,
                normalised=normalised,
                collapsed_before=state.collapsed_fetches,
                previous_notice=state.notice,
                accept=state.accept_next,
            )
        except ExtractionError as exc:
            if exc.kind == "text-collapsed" and (sweep is None or sweep != state.last_failed_sweep):
                state.collapsed_fetches += 1  # once per sweep, as failures are counted
            elif exc.kind != "text-collapsed":
                state.collapsed_fetches = 0
            return self._fail(state, now, sweep, exc.kind, exc.detail)
        if checked.rebaselined:
            self._rebaselined(state, checked.chars)
        state.collapsed_fetches, state.accept_next, state.notice = 0, False, checked.notice
        fp = fingerprint(text, normalised=normalised)
        if state.last_version_key and state.declaration != declared and fp != state.fingerprint:
            progress.doing = "re-extracting the previous version"
            self._rebuild_previous(document, state, now)
        progress.doing = "archiving the version"
        return self._record(document, results, text, fp, len(normalised), state=state, declared=declared, now=now)

    def _rebaselined(self, state: DocumentState, chars: int) -> None:
        """A collapse seen on enough fetches in a row (or accepted by the operator): the new size."""
        fetches = state.collapsed_fetches + 1
        logger.warning(
            "collapsed text accepted as the document's new size",
            extra={"document": state.document_key, "chars": chars, "previous_chars": state.text_chars,
                   "fetches": fetches, "by_operator": state.accept_next},
        )  # fmt: skip
        if self.alerts:
            self.alerts.rebaselined(state.document_key, chars=chars, previous_chars=state.text_chars, fetches=fetches)

    def _archive_failed(
        self, state: DocumentState, now: datetime, sweep: str | None, doing: str, error: StorageError
    ) -> None:
        """Record on the document why the archive path failed (the caller re-raises ``error``)."""
        try:
            self._fail(state, now, sweep, "archive-failed", error.reason(doing))
        except StorageError as again:  # the state table is what fails: nothing can hold it
            logger.warning(
                "the failure could not be recorded on the document",
                extra={"document": state.document_key, "error": again.reason()},
            )

    def _rebuild_previous(self, document: Document, state: DocumentState, now: datetime) -> None:
        """The declaration or extractor changed since the last version: first re-extract the
        page that version came from, as a technical version, so the diff against today's
        text shows what the site changed and not what we changed."""
        last_version_key = cast(str, state.last_version_key)  # called only when there is a last version
        version_stamp = last_version_key.rsplit("/", 1)[1][:STAMP_WIDTH]
        keys = latest_snapshot(self.archive, document, until=version_stamp)
        if not keys:
            return
        result = rebuild(
            document,
            keys,
            archive=self.archive,
            states=self.states,
            settings=self.settings,
            now=now - timedelta(milliseconds=1),  # sorts just before today's version
            state=state,
        )
        logger.info(
            "previous version re-extracted after a declaration change",
            extra={"document": document.key, "result": result.status, "detail": result.detail},
        )

    def _fetch_pages(
        self, document: Document, state: DocumentState, declared: str, deadline: float | None
    ) -> list[FetchResult] | None:
        """Every page of the document, or None when a single-page document is unchanged (304).

        Validators are sent only when the last success used this same declaration and
        extractor: after a selector fix the page must be extracted again, unchanged or not.
        """
        conditional = len(document.pages) == 1 and state.fingerprint is not None and state.declaration == declared
        budget = time.monotonic() + self.settings.fetch_budget
        deadline = budget if deadline is None else min(deadline, budget)
        if document.render == "browser" and self.renderer is not None:
            # A rendered DOM has no validators: every sweep renders the page again.
            return [self.renderer.render(page.url, select=page.select, deadline=deadline) for page in document.pages]
        results = []
        for page in document.pages:
            result = fetch(
                page.url,
                validators=Validators(state.etag, state.last_modified) if conditional else None,
                user_agent=self.settings.user_agent,
                max_bytes=self.settings.max_page_bytes,
                timeout=(self.settings.connect_timeout, self.settings.read_timeout),
                retry=RetryPolicy(attempts=self.settings.fetch_attempts, base_delay=self.settings.retry_base_delay),
                deadline=deadline,
                allowlist=self.allowlist,
            )
            if result.not_modified:
                return None
            results.append(result)
        return results

    def _keep_snapshots(
        self, document: Document, results: list[FetchResult], state: DocumentState, now: datetime
    ) -> str:
        """Store the raw pages if they changed; returns their combined SHA-256."""
        raw_sha = sha256(b"".join(r.body for r in results))
        state.last_redirects = [f"{status} {url}" for r in results for status, url in r.redirects]
        if raw_sha == state.raw_sha256:
            return raw_sha
        for index, result in enumerate(results):
            ext = "pdf" if result.content_type == "application/pdf" else "html"
            key = key_for("snapshots", document.key, now, ext if index == 0 else f"{index}.{ext}")
            meta = {**self._metadata([result], now), "sha256": sha256(result.body)}
            self.archive.put(key, result.body, result.content_type, meta)
            if index == 0:
                state.last_snapshot_key = key
        state.raw_sha256 = raw_sha
        return raw_sha

    @staticmethod
    def _keep_validators(results: list[FetchResult], state: DocumentState) -> None:
        if len(results) == 1:
            state.etag = results[0].validators.etag
            state.last_modified = results[0].validators.last_modified

    def _metadata(self, results: list[FetchResult], now: datetime) -> dict[str, str]:
        meta = {
            "source-url": " ".join(r.final_url for r in results),
            "fetched-at": clock.iso(now),
            "http-status": ",".join(str(r.status) for r in results),
            "extractor-version": EXTRACTOR_VERSION,
        }
        if any(r.rendered for r in results):
            meta["rendered"] = "chromium"  # the DOM after the page's scripts ran, not the bytes served
        requested = " ".join(r.url for r in results)
        if requested != meta["source-url"]:
            meta["requested-url"] = requested
        return meta

    def _record(
        self,
        document: Document,
        results: list[FetchResult],
        text: str,
        fp: str,
        text_chars: int,
        *,
        state: DocumentState,
        declared: str,
        now: datetime,
    ) -> FetchOutcome:
        version_key = None
        if fp != state.fingerprint:
            version_key = self._unrecorded_version(document, fp, state)
            if version_key is None:
                meta = self._metadata(results, now)
                meta.update({"fingerprint": fp, "document-type": document.type})
                if state.last_snapshot_key:
                    meta["snapshot-key"] = state.last_snapshot_key
                version_key = self.archive.put_version(document.key, now, text, meta)
            state.last_change_at = clock.iso(now)
        state.record_extraction(fp, text_chars, declared, EXTRACTOR_VERSION, version_key)
        state.extracted_sha256 = state.raw_sha256
        self._keep_validators(results, state)
        alert = self._succeeded(state, now)
        self.states.put(state)
        logger.info("document fetched", extra={"document": document.key, "changed": bool(version_key)})
        return FetchOutcome(
            document.key, "new-version" if version_key else "unchanged", version_key=version_key, alert=alert
        )

    def _unrecorded_version(self, document: Document, fp: str, state: DocumentState) -> str | None:
        """The archive's newest version of ``document`` if it already holds this text but the document's
        state never recorded it (the function stopped between the two writes); None otherwise.

        The version is then adopted rather than written twice: the archive is write-once evidence,
        and a second copy of the same text would be a version that never was.
        """
        newest = self.archive.newest_version(document.key)
        if newest is None or newest == state.last_version_key:
            return None
        head = self.archive.head(newest) or {}
        if head.get("Metadata", {}).get("fingerprint") != fp:
            return None
        logger.warning(
            "adopting a version archived but never recorded", extra={"document": document.key, "key": newest}
        )
        return newest

    def _succeeded(self, state: DocumentState, now: datetime) -> str | None:
        """Reset the failure count; tell the operator when a document they were alerted about is back."""
        alert = None
        if state.alerted:
            alert = "recovered"
            if self.alerts:
                self.alerts.recovered(state.document_key, failures=state.consecutive_failures)
        state.last_success_at = clock.iso(now)
        state.consecutive_failures = 0
        state.last_error = None
        state.last_failed_sweep = None
        state.alerted = False
        return alert

    def _fail(self, state: DocumentState, now: datetime, sweep: str | None, kind: str, detail: str) -> FetchOutcome:
        if sweep is None or sweep != state.last_failed_sweep:
            state.consecutive_failures += 1
        state.last_failed_sweep = sweep
        state.last_error = f"{clock.iso(now)} {kind}: {detail}"
        alert = None
        # A document declared as needing a browser fails by design: status shows it, no alert.
        due = kind != "needs-browser" and state.consecutive_failures >= self.settings.failure_alert_after
        if due and not state.alerted:
            alert = "failing"
            state.alerted = True
            if self.alerts:
                self.alerts.failing(state.document_key, failures=state.consecutive_failures, error=state.last_error)
        self.states.put(state)
        logger.warning(
            "document not archived", extra={"document": state.document_key, "failure": kind, "detail": detail}
        )
        return FetchOutcome(
            state.document_key,
            "needs-browser" if kind == "needs-browser" else "failed",
            error=f"{kind}: {detail}",
            alert=alert,
        )


@dataclass
class _Progress:
    """What the archive path is doing, so that a failure can say where it happened."""

    doing: str = "storing the raw pages"


def fetch_allowlist(raw: str) -> frozenset[str]:
    """FETCH_ALLOWLIST parsed: "host:port" entries that may be fetched over http and at private addresses."""
    try:
        return parse_allowlist(raw)
    except AddressError as error:  # its messages name the webhook variable, whose syntax this one shares
        raise ConfigError(str(error).replace("WEBHOOK_HTTP_ALLOWLIST", "FETCH_ALLOWLIST")) from None
