"""Effective-date reminders: which an alerting change schedules, and which it cancels.

A substantive change that states a future effective date gets two one-time schedules, 7 days
and 1 day before that date at 08:00 UTC (a moment already past is skipped); each invokes the
reminder function with the change record's key (docs/alerts.md, "Effective-date reminders").
Any alerting change first cancels the document's pending reminders: a later change supersedes
the one that stated the date. A change that alerts no one cancels them only when the text no
longer states their date: a flap back to the earlier text (a revert), or a date moved alone (the
next alerting change schedules again); a cosmetic change keeps them. A scheduling failure is logged and never fails the diff: the change
is recorded and alerted all the same, and only its reminders are lost.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from policywatch.storage.errors import StorageError
from policywatch.storage.schedules import Reminder, Schedules

logger = Logger(child=True)

LEADS_DAYS = (7, 1)
REMINDER_TIME = time(8, 0)  # UTC, as the weekly digest


def pending_date(name: str) -> str:
    """The effective date a reminder's name is for: ``a1b2c3d4e5f6-2025-09-28-7d`` -> ``2025-09-28``."""
    return name[13:23]


def reminders_for(record: dict[str, Any], record_key: str, now: datetime) -> list[Reminder]:
    """The reminders ``record`` calls for after ``now``: none without a valid effective date."""
    try:
        effective = date.fromisoformat(record.get("effective_date") or "")
    except ValueError:
        return []
    document_key = f"{record['platform']}/{record['document']}"
    moments = ((lead, datetime.combine(effective - timedelta(days=lead), REMINDER_TIME, UTC)) for lead in LEADS_DAYS)
    return [Reminder(document_key, effective.isoformat(), lead, at, record_key) for lead, at in moments if at > now]


def update_reminders(schedules: Schedules, record: dict[str, Any], record_key: str, now: datetime) -> None:
    """For an alerting change: cancel the document's pending reminders, then schedule its own.

    A change that alerts no one cancels them when the text no longer states the date they are
    for: a revert (a flap back to the earlier text) or a date moved on its own. A cosmetic change
    that keeps the date leaves them be.
    """
    document_key = f"{record['platform']}/{record['document']}"
    try:
        if not record.get("alert"):
            stated = record.get("effective_date") or ""
            if any(pending_date(name) != stated for name in schedules.names(document_key)):
                cancelled = schedules.cancel_document(document_key)
                logger.info("effective-date reminders cancelled", extra={"change_id": record["change_id"],
                            "kind": record.get("kind"), "cancelled": cancelled})  # fmt: skip
            return
        cancelled = schedules.cancel_document(document_key)
        scheduled = [r.name for r in reminders_for(record, record_key, now) if schedules.schedule(r)]
    except StorageError as exc:  # the change stands; only its reminders are lost (docs/alerts.md)
        logger.warning(
            "effective-date reminders not updated",
            extra={"change_id": record["change_id"], "document": document_key, "error": exc.reason()},
        )
        return
    if cancelled or scheduled:
        logger.info(
            "effective-date reminders updated",
            extra={"change_id": record["change_id"], "cancelled": cancelled, "scheduled": scheduled},
        )
