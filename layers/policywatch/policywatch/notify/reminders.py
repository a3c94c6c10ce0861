"""Effective-date reminders: an e-mail some days before a change takes effect.

The diff stage schedules them (``analysis.reminders``); each one-time schedule invokes the
reminder function with ``{"record_key": ..., "days_before": N}``. Every active subscriber of the
platform whose tier has ``effective_date_reminders`` (and whose provision filter, if any, the
change matches, as ``entitlement`` judges) gets one e-mail, claimed once per subscriber as the
delivery ``<change_id>#reminder-<N>d``: a schedule that fires twice sends once. A change that a
later alerting change of the same document has superseded sends nothing (its reminders are
normally cancelled; this covers a cancellation that failed, or one that lost a race).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from policywatch.core.errors import TransientError
from policywatch.core.events import event_from_record
from policywatch.messages.render import Email, reminder_email
from policywatch.notify.digest import send_claimed
from policywatch.notify.dispatch import DeliveryOptions
from policywatch.storage.archive import Archive
from policywatch.storage.deliveries import Deliveries, DeliveryKey
from policywatch.storage.site import SiteIndex
from policywatch.storage.subscribers import Subscribers
from policywatch.subscribers import entitlement

logger = Logger(child=True)


class RemindersIncomplete(TransientError):
    """Some reminders failed; the invocation's retry sends those and nothing twice."""


@dataclass
class ReminderRun:
    change_id: str
    days_before: int
    skipped: str = ""  # why nothing was sent: "superseded", "no effective date"
    sent: list[str] = field(default_factory=list)  # subscriber ids
    duplicates: int = 0
    failed: int = 0


def delivery_id(change_id: str, days_before: int) -> str:
    """The delivery records' change id: ``<change_id>#reminder-7d``."""
    return f"{change_id}#reminder-{days_before}d"


def latest_alerting_change(site: SiteIndex, platform: str, document: str) -> dict[str, Any] | None:
    """The document's most recent alerting change: one item of its feed in the site's read model."""
    items, _ = site.query(f"feed#document#{platform}/{document}", newest_first=True, limit=1)
    return items[0] if items else None


def send_reminders(
    *,
    record_key: str,
    days_before: int,
    archive: Archive,
    site: SiteIndex,
    subscribers: Subscribers,
    deliveries: Deliveries,
    options: DeliveryOptions,
) -> ReminderRun:
    record = json.loads(archive.get(record_key))
    run = ReminderRun(change_id=record["change_id"], days_before=days_before)
    if not record.get("alert") or not record.get("effective_date"):
        run.skipped = "no effective date"
        return run
    latest = latest_alerting_change(site, record["platform"], record["document"])
    if latest is not None and latest["change_id"] != record["change_id"]:
        run.skipped = "superseded"
        logger.info(
            "reminder of a superseded change: not sent", extra={"change_id": run.change_id, "by": latest["change_id"]}
        )
        return run
    change = event_from_record(record, record_key)
    rendered: dict[str, Email] = {}  # one rendering per tier
    for subscriber in subscribers.watchers(record["platform"]):
        entitled = entitlement(subscriber, change)
        if entitled is None or not entitled.plan.effective_date_reminders:
            continue
        key = DeliveryKey(delivery_id(run.change_id, days_before), subscriber.subscriber_id, "email")
        if not deliveries.claim(key, reclaim_failed=True):
            run.duplicates += 1
            continue
        plan = entitled.plan
        if plan.id not in rendered:
            rendered[plan.id] = reminder_email(change, days_before, plan, options.links)
        unsubscribe = options.links.unsubscribe(subscriber.subscriber_id, subscriber.unsubscribe_token)
        message = rendered[plan.id].for_recipient(unsubscribe)
        if send_claimed(
            options, deliveries, key, subscriber, message, unsubscribe, f"reminder {days_before} day(s) before"
        ):
            run.sent.append(subscriber.subscriber_id)
        else:
            run.failed += 1
    logger.info(
        "reminders sent",
        extra={"change_id": run.change_id, "days_before": days_before, "sent": len(run.sent), "failed": run.failed},
    )
    return run
