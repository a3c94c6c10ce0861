"""Reconciler: deliveries that nobody will finish any more, found and settled.

Every delivery path hands a delivery on before it lets go of it (``notify``, ``retries``), but
a process can still die mid-send (a Lambda timeout, out of memory), or DynamoDB and SQS can
both fail within one attempt. Such a delivery stays ``queued``, ``sending`` or ``retrying``
past its ``overdue_at``, which the sparse ``unsettled`` index finds without reading anything
else (``Deliveries.overdue``). For each one, what is safe:

- ``queued`` or ``retrying``: nothing went out on the last attempt (it failed, or never began);
  a new job goes on the delivery queue, whatever the channel.
- ``sending``, a webhook: it may have gone out. It is sent again: receivers drop duplicates
  by ``webhook-id``, which is the same on every attempt (at least once).
- ``sending``, an email, an SMS or a digest: it may have gone out, and a person would read it
  twice. It is settled as ``interrupted`` and never sent again (at most once); the
  ``DeliveriesStuck`` alarm tells the operator, and ``policywatch deliveries`` shows it.

Every change is a conditional update on what was read (status, attempt, ``overdue_at``), so a
job that turns up late, or a second reconciler, wins or loses cleanly. A delivery handed over
``MAX_RESCUES`` times without the queue taking it up is failed for good rather than handed
over forever.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from policywatch.notify import jobs
from policywatch.notify.jobs import RetryQueue
from policywatch.storage.deliveries import Deliveries, DeliveryKey

logger = Logger(child=True)

MAX_RESCUES = 3
RECORDS_PER_RUN = 500  # the next run (minutes later) takes the rest

_NOTES = {
    "queued": "its first attempt never came: handed to the delivery queue again",
    "retrying": "its next attempt never came: handed to the delivery queue again",
    "sending": "interrupted mid-send: sent again (receivers drop duplicates by webhook-id)",
}
INTERRUPTED = "interrupted mid-send: it may have gone out, so it is not sent again (never twice)"


@dataclass
class Reconciliation:
    """What one run found and did (counts only: no addresses)."""

    stuck: int = 0  # overdue records found
    resent: int = 0  # a new job on the delivery queue
    interrupted: int = 0  # an email, SMS or digest left mid-send: settled, not sent again
    failed: int = 0  # handed over too often, or nothing to retry it from
    moved_on: int = 0  # settled or taken over since the index was read
    errors: int = 0  # SQS refused the job: the record is overdue again after the grace
    by_status: Counter[str] = field(default_factory=Counter)

    def counts(self) -> dict[str, Any]:
        return {**{k: v for k, v in vars(self).items() if k != "by_status"}, "by_status": dict(self.by_status)}


def reconcile(
    *,
    deliveries: Deliveries,
    retries: RetryQueue,
    now: datetime | None = None,
    limit: int = RECORDS_PER_RUN,
    deadline: float | None = None,
) -> Reconciliation:
    """Settle every delivery overdue at ``now`` (at most ``limit``, and none after ``deadline``, a monotonic time)."""
    run = Reconciliation()
    for record in deliveries.overdue(now, limit):
        if deadline is not None and time.monotonic() >= deadline:
            break
        run.stuck += 1
        run.by_status[record.get("status", "?")] += 1
        outcome = _settle(record, deliveries, retries, now)
        setattr(run, outcome, getattr(run, outcome) + 1)
        logger.info(
            "stuck delivery",
            extra={
                "change_id": record["change_id"],
                "subscriber_id": record["subscriber_id"],
                "channel": record["channel"],
                "status": record.get("status"),
                "attempts": int(record.get("attempts", 0)),
                "overdue_at": record.get("overdue_at"),
                "outcome": outcome,
            },
        )
    logger.info("deliveries reconciled", extra=run.counts())
    return run


def _settle(record: dict[str, Any], deliveries: Deliveries, retries: RetryQueue, now: datetime | None) -> str:
    """Do the safe thing with one overdue record; returns the Reconciliation counter it adds to."""
    status, channel = record.get("status"), record["channel"]
    if status == "sending" and not channel.startswith("webhook:"):
        return "interrupted" if deliveries.settled_as(record, "interrupted", INTERRUPTED) else "moved_on"
    record_key = record.get("record_key", "")
    if status not in _NOTES or not record_key:
        reason = "left unsettled with no change record to retry it from"
        return "failed" if deliveries.settled_as(record, "failed", reason) else "moved_on"
    if int(record.get("rescues", 0)) >= MAX_RESCUES:
        reason = f"handed to the delivery queue {MAX_RESCUES} times by the reconciler, never taken up"
        return "failed" if deliveries.settled_as(record, "failed", reason) else "moved_on"
    if not deliveries.rescheduled(record, _NOTES[status], now):
        return "moved_on"
    try:
        retries.schedule(DeliveryKey.of(record), record_key, 0, attempt=int(record.get("attempts", 0)) + 1)
    except Exception as exc:  # the record is overdue again after the grace: the next run tries again
        logger.error("could not hand a stuck delivery over", extra={"error": jobs.describe(exc)})
        return "errors"
    return "resent"
