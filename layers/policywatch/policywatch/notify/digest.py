"""Weekly digest: on Monday, one email per subscriber summarising last week's substantive changes.

The scheduled run plans the week (``plan_week``: what it lists, by platform, written to the
archive once) and starts a fan-out over the platforms that have something to list; each page of
each platform's subscribers is a job on the fan-out queue (``notify.pages``), sent by as many
instances as the queue starts, each send paced to the account's SES rate. A subscriber of
several platforms is sent from one platform's pages only (``owning_platform``), and their one
delivery record per week is claimed before the send: each is sent once.

The week is the previous full ISO week, Monday 00:00 to Monday 00:00 UTC, whatever time the
digest runs: a rerun the same week covers the same changes, and its delivery records (one per
subscriber and week) stop a second email. Only subscribers of platforms that changed are read,
through the ``by-platform`` index; a subscriber with nothing to read gets no email. Free
subscribers always get it; Watcher and Professional subscribers who opted in get it too.

It also lists what is "Coming into effect" on the subscriber's platforms: each document's latest
alerting change whose effective date falls in the next ``UPCOMING_DAYS`` days. They are read
from the site's read model (``feed#all``, newest first, back ``UPCOMING_LOOKBACK_DAYS`` days and
no further): a few Queries of small items, never the archive.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from aws_lambda_powertools import Logger

from policywatch.core import clock
from policywatch.core.errors import TransientError
from policywatch.core.events import event_from_record
from policywatch.messages.render import Email, digest_email
from policywatch.notify import jobs
from policywatch.notify.channels import email
from policywatch.notify.dispatch import DeliveryOptions
from policywatch.storage.archive import Archive, parse_key, parse_stamp
from policywatch.storage.deliveries import Deliveries, DeliveryKey
from policywatch.storage.sendrate import NoSendSlot
from policywatch.storage.site import SiteIndex
from policywatch.storage.subscribers import Subscribers
from policywatch.subscribers import Subscriber, digest_plan
from policywatch.subscribers.tiers import Tier

logger = Logger(child=True)
T = TypeVar("T")

UPCOMING_DAYS = 30  # effective dates listed: from the digest's Monday to 30 days later
UPCOMING_LOOKBACK_DAYS = 180  # changes detected this long ago at most (a date announced earlier is not listed)


class DigestIncomplete(TransientError):
    """Some digests failed; a rerun (the schedule's retry) sends those and nothing twice."""


@dataclass(kw_only=True)
class Mailing:
    """What one page of claimed e-mails (digests, reminders) did: what it adds to its fan-out's ledger."""

    sent: list[str] = field(default_factory=list)  # subscriber ids
    duplicates: int = 0
    failed: int = 0
    watchers: int = 0
    not_entitled: int = 0  # nothing to read, or none in their tier and settings

    def counts(self) -> dict[str, int]:
        return {
            "watchers": self.watchers,
            "sent": len(self.sent),
            "duplicates": self.duplicates,
            "failed": self.failed,
            "not_entitled": self.not_entitled,
        }

    def send_each(
        self, recipients: list[tuple[Subscriber, T]], send: Callable[[Subscriber, T], str], concurrency: int
    ) -> None:
        """``send`` each (subscriber, what they get), ``concurrency`` at once; counts its outcomes
        ("sent", "duplicate", anything else a failure)."""
        with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(recipients)))) as pool:
            outcomes = pool.map(lambda recipient: send(*recipient), recipients)
            for (subscriber, _), outcome in zip(recipients, outcomes, strict=True):
                if outcome == "sent":
                    self.sent.append(subscriber.subscriber_id)
                elif outcome == "duplicate":
                    self.duplicates += 1
                else:
                    self.failed += 1


@dataclass(kw_only=True)
class DigestRun(Mailing):
    week: str
    changes: int = 0
    other_platform: int = 0  # on this page, but their digest goes out from another platform's pages

    def counts(self) -> dict[str, int]:
        return super().counts() | {"other_platform": self.other_platform}


def week_window(now: datetime) -> tuple[datetime, datetime]:
    """The previous full ISO week: [Monday 00:00, next Monday 00:00) UTC."""
    today = now.astimezone(clock.now().tzinfo).replace(hour=0, minute=0, second=0, microsecond=0)
    end = today - timedelta(days=today.weekday())
    return end - timedelta(days=7), end


def changes_between(archive: Archive, start: datetime, end: datetime) -> dict[str, list[dict[str, Any]]]:
    """Alerting changes detected in [start, end), by platform, oldest first (only those records are read)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for key in archive.keys("changes/"):
        try:
            _, platform, _, stamp = parse_key(key)
            moment = parse_stamp(stamp)
        except ValueError:
            continue
        if start <= moment < end:
            record = json.loads(archive.get(key))
            if record.get("alert"):
                found.setdefault(platform, []).append(event_from_record(record, key))
    return found


@dataclass
class Reader:
    """One digest's recipient and what it lists: last week's changes, and those coming into effect."""

    subscriber: Subscriber
    plan: Tier
    changes: list[dict[str, Any]] = field(default_factory=list)
    coming: list[dict[str, Any]] = field(default_factory=list)


def _add(readers: dict[str, Reader], subscriber: Subscriber, change: dict[str, Any], *, coming: bool) -> None:
    plan = digest_plan(subscriber, change)
    if plan is None:
        return
    reader = readers.setdefault(subscriber.subscriber_id, Reader(subscriber, plan))
    (reader.coming if coming else reader.changes).append(change)


def coming_into_effect(site: SiteIndex, today: date, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """By platform, each document's latest alerting change whose effective date is in
    [today, today + UPCOMING_DAYS], soonest first: the read model's summaries of changes
    detected in the last UPCOMING_LOOKBACK_DAYS days, read newest first."""
    horizon = clock.iso(now - timedelta(days=UPCOMING_LOOKBACK_DAYS))
    first, last = today.isoformat(), (today + timedelta(days=UPCOMING_DAYS)).isoformat()
    documents: set[tuple[str, str]] = set()
    found: dict[str, list[dict[str, Any]]] = {}
    cursor = None
    while True:
        items, cursor = site.query("feed#all", newest_first=True, limit=100, cursor=cursor)
        for item in items:
            if item["detected_at"] < horizon:
                cursor = None
                break
            document = (item["platform"], item["document"])
            if document in documents:  # superseded by a later alerting change of the same document
                continue
            documents.add(document)
            if first <= (item.get("effective_date") or "") <= last:
                found.setdefault(item["platform"], []).append(item)
        if cursor is None:
            return {platform: sorted(items, key=lambda c: c["effective_date"]) for platform, items in found.items()}


@dataclass
class Week:
    """What one week's digest lists, by platform: written once by the planner, read by every page."""

    week: str  # "2026-W48"
    start: str  # the week's Monday, "2026-11-23"
    changes: dict[str, list[dict[str, Any]]]
    coming: dict[str, list[dict[str, Any]]]

    @property
    def platforms(self) -> list[str]:
        return sorted(self.changes.keys() | self.coming.keys())

    @property
    def fanout_id(self) -> str:
        return f"digest-{self.week}"

    @property
    def key(self) -> str:
        return f"digests/{self.week}.json"

    def to_dict(self) -> dict[str, Any]:
        return {"week": self.week, "start": self.start, "changes": self.changes, "coming": self.coming}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Week:
        return cls(data["week"], data["start"], data["changes"], data["coming"])


def plan_week(archive: Archive, now: datetime | None = None, site: SiteIndex | None = None) -> Week:
    """The digest of the week before ``now``: last week's changes and, with ``site``, what comes into effect."""
    now = now or clock.now()
    start, end = week_window(now)
    upcoming = coming_into_effect(site, now.date(), now) if site is not None else {}
    upcoming = json.loads(json.dumps(upcoming, default=_plain))  # the read model's numbers are Decimal
    return Week(start.strftime("%G-W%V"), start.date().isoformat(), changes_between(archive, start, end), upcoming)


def reader(subscriber: Subscriber, week: Week) -> Reader | None:
    """What ``subscriber``'s digest lists, over every platform of theirs; None if they get none."""
    readers: dict[str, Reader] = {}
    for platform in sorted(set(subscriber.platforms)):
        for change in week.changes.get(platform, []):
            _add(readers, subscriber, change, coming=False)
        for change in week.coming.get(platform, []):
            _add(readers, subscriber, change, coming=True)
    return readers.get(subscriber.subscriber_id)


def owning_platform(subscriber: Subscriber, week: Week) -> str | None:
    """The one platform whose pages send ``subscriber``'s digest: the first of theirs the digest covers.

    A subscriber of several platforms is on each platform's pages; only this one's sends, so
    they get one digest, listing all of them.
    """
    return next((p for p in sorted(set(subscriber.platforms)) if p in week.changes or p in week.coming), None)


def deliver_digests(
    watchers: list[Subscriber],
    platform: str,
    week: Week,
    *,
    deliveries: Deliveries,
    options: DeliveryOptions,
    concurrency: int = 16,
    rerun: bool = False,
) -> DigestRun:
    """Send the digest to each of ``watchers`` (a page of ``platform``'s subscribers) whose digest this page owns."""
    run = DigestRun(week=week.week, changes=sum(len(c) for c in week.changes.values()))
    run.watchers = len(watchers)
    owned: list[tuple[Subscriber, Reader]] = []
    for subscriber in watchers:
        if owning_platform(subscriber, week) != platform:
            run.other_platform += 1
        elif (found := reader(subscriber, week)) is None:
            run.not_entitled += 1
        else:
            owned.append((subscriber, found))
    claimed: set[DeliveryKey] = set()
    if rerun:  # this page ran before: what it sent then waits for no send slot now (failed ones go again)
        keys = [DeliveryKey(week.fanout_id, subscriber.subscriber_id, "email") for subscriber, _ in owned]
        claimed = deliveries.existing(keys, but=("failed",))

    def send(subscriber: Subscriber, found: Reader) -> str:
        key = DeliveryKey(week.fanout_id, subscriber.subscriber_id, "email")
        if key in claimed:
            return "duplicate"
        unsubscribe = options.links.unsubscribe(subscriber.subscriber_id, subscriber.unsubscribe_token)
        message = digest_email(found.changes, week.start, found.plan, options.links, found.coming)
        detail = f"{len(found.changes)} change(s)"
        return paced_send(options, deliveries, key, subscriber, message.for_recipient(unsubscribe), unsubscribe, detail)

    run.send_each(owned, send, concurrency)
    return run


def send_digests(
    *,
    archive: Archive,
    subscribers: Subscribers,
    deliveries: Deliveries,
    options: DeliveryOptions,
    now: datetime | None = None,
    site: SiteIndex | None = None,
) -> DigestRun:
    """The week's digests in this one process, platform after platform (the deployed digest runs
    them as pages on the fan-out queue: ``notify.pages``); with ``site``, each also lists what
    comes into effect on its platforms."""
    week = plan_week(archive, now, site)
    run = DigestRun(week=week.week, changes=sum(len(c) for c in week.changes.values()))
    for platform in week.platforms:
        page = deliver_digests(
            list(subscribers.watchers(platform)), platform, week, deliveries=deliveries, options=options
        )
        run.sent += page.sent
        run.duplicates += page.duplicates
        run.failed += page.failed
    logger.info(
        "digests sent",
        extra={"week": run.week, "changes": run.changes, "sent": len(run.sent), "failed": run.failed},
    )
    return run


def paced_send(
    options: DeliveryOptions,
    deliveries: Deliveries,
    key: DeliveryKey,
    subscriber: Subscriber,
    message: Email,
    unsubscribe: str | None,
    detail: str,
) -> str:
    """A digest's or a reminder's e-mail: its send slot first (a claimed e-mail is sent at once), its
    claim (a failed one may be claimed again), the send; "sent", "duplicate" or "failed"."""
    try:
        options.mailer.pacing.wait()
    except NoSendSlot:
        return "failed"  # nothing claimed: the page comes back for it
    if not deliveries.claim(key, reclaim_failed=True):
        return "duplicate"
    return "sent" if send_claimed(options, deliveries, key, subscriber, message, unsubscribe, detail) else "failed"


def send_claimed(
    options: DeliveryOptions,
    deliveries: Deliveries,
    key: DeliveryKey,
    subscriber: Subscriber,
    message: Email,
    unsubscribe: str | None,
    detail: str,
) -> bool:
    """Send one claimed e-mail (a digest or a reminder) and record what became of it; False if it failed.

    A failure never stops the others: it is recorded ``failed`` (a rerun claims it again) and logged.
    """
    try:
        message_id = email.send_email(options.mailer, options.sender, subscriber.email, message, unsubscribe)
    except Exception as exc:
        reason = jobs.describe(exc)
        record_failure(deliveries, key, reason)
        logger.warning(
            "e-mail failed",
            extra={"delivery": key.change_id, "subscriber_id": subscriber.subscriber_id, "error": reason},
        )
        return False
    deliveries.sent(key, message_id, detail)
    return True


def record_failure(deliveries: Deliveries, key: DeliveryKey, reason: str) -> None:
    """Record a digest (or reminder) that was not sent, so a rerun claims it again (``reclaim_failed``)."""
    try:
        deliveries.failed(key, reason)
    except Exception as exc:  # a record left "sending" would be settled as interrupted: never sent
        logger.warning("could not record a failed digest; giving its claim back", extra={"error": jobs.describe(exc)})
        try:
            deliveries.release(key, "sending", 1)
        except Exception as again:  # left "sending": the reconciler settles it as interrupted (never sent twice)
            logger.error("could not give a digest's claim back", extra={"error": jobs.describe(again)})


def _plain(value: Any) -> Any:
    return int(value) if value == int(value) else float(value)
