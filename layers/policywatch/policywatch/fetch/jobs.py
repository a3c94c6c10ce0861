"""The fetch function's batch: message groups in parallel, each group's jobs in order.

A batch from the FIFO fetch queue holds jobs from several message groups (``host#slot``,
see ``policywatch.fetch.sweep``). Groups run in parallel threads, so one invocation fetches from
many hosts at once; the jobs of one group run one after another, so no host sees more
concurrent requests than it has groups.

Retries are carried by the queue, never by sleeping: a job whose fetch failed in a way
that may pass (network, 429, 5xx) is reported as a batch item failure with its visibility
set to an exponential backoff (30 s, 60 s, 120 s, ...) or to the server's Retry-After when
that is longer; after ``maxReceiveCount`` receives SQS moves it to the dead-letter queue.
When a job fails, the rest of its group in this batch is handed back too (FIFO order, and
a host that answered 429 should not get the next request at once).

The batch never runs into Lambda's own timeout, which would lose every outcome not yet
recorded: the handler passes the invocation's end (from the remaining time Lambda reports),
each job's fetch must be over ``FINISH_SECONDS`` before it (the fetcher's deadline holds
whatever the server does), leaving that long to extract, archive and record, and no job is
started with less than ``DEADLINE_MARGIN_SECONDS`` left: it goes back to the queue at once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from policywatch.catalog import Document
from policywatch.fetch.archivist import Archivist, FetchOutcome
from policywatch.fetch.fetcher import FetchError
from policywatch.storage.queues import Queue

logger = Logger(child=True)

BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 6 * 3600  # a sweep's period: later than that the next sweep has the job anyway
FINISH_SECONDS = 15  # kept after a job's fetch deadline to extract, archive and record the outcome
DEADLINE_MARGIN_SECONDS = FINISH_SECONDS + 15  # do not start a job with less time than this left


@dataclass
class BatchReport:
    outcomes: list[FetchOutcome] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # message ids

    def response(self) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in self.failures]}


def backoff_seconds(receive_count: int, retry_after: float | None) -> int:
    """Visibility for a retry: exponential in the receive count, at least the server's Retry-After."""
    exponential = BACKOFF_BASE_SECONDS * 2 ** max(receive_count - 1, 0)
    return int(min(max(exponential, retry_after or 0), BACKOFF_MAX_SECONDS))


def run_batch(
    records: list[dict[str, Any]],
    work: Callable[[dict[str, Any], float | None], FetchOutcome],
    *,
    queue: Queue | None,
    deadline: float | None = None,
    max_workers: int = 10,
) -> BatchReport:
    """Run ``work(record, job_deadline)`` for every record, groups in parallel, and report failures.

    ``deadline`` (``time.monotonic()``) is the invocation's end; each job's is ``FINISH_SECONDS``
    earlier, so that it can still record its outcome.
    """
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        group = record.get("attributes", {}).get("MessageGroupId") or record["messageId"]
        groups.setdefault(group, []).append(record)
    report = BatchReport()
    if not groups:
        return report
    with ThreadPoolExecutor(max_workers=min(max_workers, len(groups))) as pool:
        results = list(pool.map(lambda jobs: _run_group(jobs, work, queue, deadline), groups.values()))
    for outcomes, failures in results:
        report.outcomes.extend(outcomes)
        report.failures.extend(failures)
    return report


def _run_group(
    jobs: list[dict[str, Any]],
    work: Callable[[dict[str, Any], float | None], FetchOutcome],
    queue: Queue | None,
    deadline: float | None,
) -> tuple[list[FetchOutcome], list[str]]:
    outcomes: list[FetchOutcome] = []
    for index, record in enumerate(jobs):
        if deadline is not None and time.monotonic() > deadline - DEADLINE_MARGIN_SECONDS:
            logger.warning(
                "job not started before the invocation's deadline", extra={"message_id": record["messageId"]}
            )
            defer(record, queue, 0)
            return outcomes, [r["messageId"] for r in jobs[index:]]
        try:
            outcomes.append(work(record, None if deadline is None else deadline - FINISH_SECONDS))
        except FetchError as exc:
            receives = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
            delay = backoff_seconds(receives, exc.retry_after)
            logger.warning("fetch will be retried", extra={"error": str(exc), "retry_in_seconds": delay})
            defer(record, queue, delay)
            return outcomes, [r["messageId"] for r in jobs[index:]]
        except Exception:
            logger.exception("fetch job failed", extra={"message_id": record["messageId"]})
            return outcomes, [r["messageId"] for r in jobs[index:]]
    return outcomes, []


def defer(record: dict[str, Any], queue: Queue | None, seconds: int) -> None:
    """Make a failed job visible again after ``seconds`` (best effort: else the queue's timeout applies)."""
    if queue is None or not record.get("receiptHandle"):
        return
    try:
        queue.defer(record["receiptHandle"], seconds)
    except Exception as exc:  # the retry still happens, on the queue's own visibility timeout
        logger.warning("could not set the retry delay", extra={"error": str(exc)})


# ---------------------------------------------------------------- the fetch and render functions' batch

OUTCOME_METRICS = {
    "new-version": "VersionsArchived",
    "unchanged": "DocumentsUnchanged",
    "not-modified": "DocumentsUnchanged",
    "failed": "ExtractionFailures",
    "needs-browser": "NeedsBrowser",
}
ALERT_METRICS = {"failing": "DocumentsFailing", "recovered": "DocumentsRecovered"}


def run_jobs(
    records: list[dict[str, Any]], archivist: Archivist, *, queue: Queue | None, deadline: float | None
) -> BatchReport:
    """Each record a fetch job (a document's declaration and its sweep), run by ``archivist``."""

    def work(record: dict[str, Any], job_deadline: float | None) -> FetchOutcome:
        document = Document.from_job(record["body"])
        sweep = json.loads(record["body"]).get("sweep")
        return archivist.run(document, sweep=sweep, deadline=job_deadline)

    return run_batch(records, work, queue=queue, deadline=deadline)


def count(report: BatchReport, metrics: Metrics) -> None:
    """The batch's outcomes as Powertools metrics: one count per outcome, alert and retry."""
    for outcome in report.outcomes:
        metrics.add_metric(name=OUTCOME_METRICS[outcome.status], unit=MetricUnit.Count, value=1)
        if outcome.alert:
            metrics.add_metric(name=ALERT_METRICS[outcome.alert], unit=MetricUnit.Count, value=1)
    if report.failures:
        metrics.add_metric(name="FetchRetries", unit=MetricUnit.Count, value=len(report.failures))
