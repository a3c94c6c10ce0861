"""Effective-date reminders: an e-mail some days before a change takes effect.

The diff stage schedules them (``analysis.reminders``); each one-time schedule invokes the
reminder function with ``{"record_key": ..., "days_before": N}``, which starts a fan-out of pages
(``notify.pages``) sent by the notify function, as an alert's are. Every active subscriber of the
platform whose tier has ``effective_date_reminders`` (and whose provision filter, if any, the
change matches, as ``entitlement`` judges) gets one e-mail, claimed once per subscriber as the
delivery ``<change_id>#reminder-<N>d``: a schedule that fires twice sends once. A change that a
later alerting change of the same document has superseded sends nothing (its reminders are
normally cancelled; this covers a cancellation that failed, or one that lost a race).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from policywatch.core.errors import InputError, TransientError
from policywatch.core.events import event_from_record
from policywatch.messages.render import Email, reminder_email
from policywatch.notify.digest import Mailing, paced_send
from policywatch.notify.dispatch import DeliveryOptions
from policywatch.storage.archive import Archive
from policywatch.storage.deliveries import Deliveries, DeliveryKey
from policywatch.storage.site import SiteIndex
from policywatch.storage.subscribers import Subscribers
from policywatch.subscribers import Subscriber, entitlement
from policywatch.subscribers.tiers import Tier

logger = Logger(child=True)


class RemindersIncomplete(TransientError):
    """Some reminders failed; the invocation's retry sends those and nothing twice."""


@dataclass(kw_only=True)
class ReminderRun(Mailing):
    change_id: str
    days_before: int
    skipped: str = ""  # why nothing was sent: "superseded", "no effective date"


def delivery_id(change_id: str, days_before: int) -> str:
    """The delivery records' change id: ``<change_id>#reminder-7d``."""
    return f"{change_id}#reminder-{days_before}d"


def latest_alerting_change(site: SiteIndex, platform: str, document: str) -> dict[str, Any] | None:
    """The document's most recent alerting change: one item of its feed in the site's read model."""
    items, _ = site.query(f"feed#document#{platform}/{document}", newest_first=True, limit=1)
    return items[0] if items else None


def plan_reminders(record_key: str, days_before: int, *, archive: Archive, site: SiteIndex) -> tuple[ReminderRun, dict]:
    """The reminder a schedule fired for, and the change event it reminds of; ``skipped`` says why none goes out."""
    record = json.loads(archive.get(record_key))
    run = ReminderRun(change_id=record["change_id"], days_before=days_before)
    if not record.get("alert") or not record.get("effective_date"):
        run.skipped = "no effective date"
        return run, record
    latest = latest_alerting_change(site, record["platform"], record["document"])
    if latest is not None and latest["change_id"] != record["change_id"]:
        run.skipped = "superseded"
        logger.info(
            "reminder of a superseded change: not sent", extra={"change_id": run.change_id, "by": latest["change_id"]}
        )
    return run, event_from_record(record, record_key)


def days_before_of(fanout_id: str) -> int:
    """The days before the effective date a reminder's fan-out (``delivery_id``) is for."""
    found = re.fullmatch(r".+#reminder-(\d+)d", fanout_id)
    if found is None:
        raise InputError(f"{fanout_id!r} is not a reminder's fan-out")
    return int(found.group(1))


def deliver_reminders(
    watchers: Iterable[Subscriber],
    change: dict[str, Any],
    days_before: int,
    *,
    deliveries: Deliveries,
    options: DeliveryOptions,
    concurrency: int = 16,
) -> ReminderRun:
    """Send the reminder to each of ``watchers`` (a page of the platform's) whose tier and filter take it."""
    run = ReminderRun(change_id=change["change_id"], days_before=days_before)
    rendered: dict[str, Email] = {}  # one rendering per tier
    entitled: list[tuple[Subscriber, Tier]] = []
    for subscriber in watchers:
        run.watchers += 1
        granted = entitlement(subscriber, change)
        if granted is None or not granted.plan.effective_date_reminders:
            run.not_entitled += 1
            continue
        if granted.plan.id not in rendered:
            rendered[granted.plan.id] = reminder_email(change, days_before, granted.plan, options.links)
        entitled.append((subscriber, granted.plan))

    def send(subscriber: Subscriber, plan: Tier) -> str:
        key = DeliveryKey(delivery_id(run.change_id, days_before), subscriber.subscriber_id, "email")
        unsubscribe = options.links.unsubscribe(subscriber.subscriber_id, subscriber.unsubscribe_token)
        message = rendered[plan.id].for_recipient(unsubscribe)
        return paced_send(
            options, deliveries, key, subscriber, message, unsubscribe, f"reminder {days_before} day(s) before"
        )

    run.send_each(entitled, send, concurrency)
    return run


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
    """The reminder to every subscriber of the platform in this one process (the deployed reminder
    runs as pages on the fan-out queue: ``notify.pages``)."""
    planned, change = plan_reminders(record_key, days_before, archive=archive, site=site)
    if planned.skipped:
        return planned
    run = deliver_reminders(
        subscribers.watchers(change["platform"]), change, days_before, deliveries=deliveries, options=options
    )
    logger.info(
        "reminders sent",
        extra={"change_id": run.change_id, "days_before": days_before, "sent": len(run.sent), "failed": run.failed},
    )
    return run
