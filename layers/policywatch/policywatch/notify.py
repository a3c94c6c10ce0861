"""Notify stage: fan one change out to the subscribers of its platform, within their tiers.

The platform's subscribers are read from the ``by-platform`` index (one item each, never a
scan). Each subscriber's entitlement is judged against their tier as it is now: status,
platforms the tier still covers, provision filter, channels, the SMS severity threshold.
Deliveries then run concurrently, each claimed before it is sent (``deliveries``). A delivery
that fails is recorded as ``retrying`` and handed to the delivery queue (``retries``); it
never holds up the others, and the change itself succeeds.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from typing import Any

from aws_lambda_powertools import Logger

from policywatch import dispatch
from policywatch.deliveries import Deliveries, DeliveryKey
from policywatch.dispatch import Channels, Renderings
from policywatch.retries import RetryQueue
from policywatch.subscribers import Subscriber, Subscribers, entitlement
from policywatch.tiers import Tier

logger = Logger(child=True)

DEADLINE_MARGIN_SECONDS = 20  # start no delivery with less than this left: a send may take a webhook timeout

# What the notify stage reads of a change event (docs/change-event.md).
REQUIRED_FIELDS = (
    "change_id",
    "platform",
    "platform_name",
    "document_type",
    "detected_at",
    "alert",
    "severity",
    "summary",
    "blocks",
    "evidence",
    "record_key",
)


class ChangeEventError(ValueError):
    """A message on the notify queue is not a change event; it goes to the DLQ, nothing is sent."""


class UnfinishedFanOut(RuntimeError):
    """The invocation ran out of time; the change is retried and what went out is not sent again."""


def parse_change_event(body: str) -> dict[str, Any]:
    try:
        change = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ChangeEventError(f"change event is not JSON: {exc}") from None
    if not isinstance(change, dict):
        raise ChangeEventError(f"change event is a JSON {type(change).__name__}, not an object")
    missing = [name for name in REQUIRED_FIELDS if name not in change]
    if missing:
        raise ChangeEventError(f"change event {change.get('change_id', '(no id)')} lacks {', '.join(missing)}")
    return change


class Result(Enum):
    """What became of one delivery; each value names the FanOut counter it adds to."""

    SENT = "sent"
    DUPLICATE = "duplicates"  # claimed before: a redelivered event or a retried invocation
    RETRYING = "retrying"
    NOT_STARTED = "not_started"  # too close to the invocation's deadline


@dataclass
class FanOut:
    """What one change did."""

    watchers: int = 0  # subscribers of the platform read from the index
    sent: int = 0
    duplicates: int = 0
    retrying: int = 0
    not_started: int = 0
    deferred_to_digest: int = 0  # weekly tiers: the change waits for Monday's digest
    not_entitled: int = 0  # inactive, filtered out, or a platform beyond a downgraded tier

    def count(self, result: Result) -> None:
        setattr(self, result.value, getattr(self, result.value) + 1)


@dataclass(frozen=True)
class Task:
    key: DeliveryKey
    subscriber: Subscriber
    plan: Tier


def deliver_change(
    change: dict[str, Any],
    *,
    subscribers: Subscribers,
    deliveries: Deliveries,
    channels: Channels,
    retries: RetryQueue,
    concurrency: int = 16,
    deadline: float | None = None,
) -> FanOut:
    """Send ``change`` on every channel each subscriber of its platform is entitled to, once each."""
    fan_out = FanOut()
    if not change.get("alert"):
        return fan_out
    tasks = []
    for subscriber in subscribers.watchers(change["platform"]):
        fan_out.watchers += 1
        granted = entitlement(subscriber, change)
        if granted is None:
            fan_out.not_entitled += 1
        elif not granted.same_day:
            fan_out.deferred_to_digest += 1
        else:
            tasks.extend(
                Task(DeliveryKey(change["change_id"], subscriber.subscriber_id, channel), subscriber, granted.plan)
                for channel in granted.channels
            )
    renderings = Renderings(change, channels.links)

    def run(task: Task) -> Result:
        if deadline is not None and time.monotonic() > deadline - DEADLINE_MARGIN_SECONDS:
            return Result.NOT_STARTED
        return attempt(task, change, renderings, deliveries=deliveries, channels=channels, retries=retries)

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(tasks) or 1))) as pool:
        for result in pool.map(run, tasks):
            fan_out.count(result)
    logger.info("change fanned out", extra={"change_id": change["change_id"], **vars(fan_out)})
    if fan_out.not_started:
        raise UnfinishedFanOut(f"{fan_out.not_started} deliveries not started before the deadline; retrying the change")
    return fan_out


def attempt(
    task: Task,
    change: dict[str, Any],
    renderings: Renderings,
    *,
    deliveries: Deliveries,
    channels: Channels,
    retries: RetryQueue,
) -> Result:
    """The first attempt of one delivery: claim, send, record; a failure is handed to the delivery queue."""
    if not deliveries.claim(task.key):
        return Result.DUPLICATE
    try:
        message_id, detail = dispatch.send(task.key, task.subscriber, task.plan, renderings, channels)
    except Exception as exc:  # any failure of this channel: the others go on
        reason = dispatch.describe(exc)
        delay = retries.delay(1)
        logger.warning(
            "delivery failed; retrying from the delivery queue",
            extra={**vars(task.key), "error": reason, "retry_in_seconds": round(delay)},
        )
        deliveries.retrying(task.key, reason, delay)
        retries.schedule(task.key, change["record_key"], delay)
        return Result.RETRYING
    deliveries.sent(task.key, message_id, detail)
    return Result.SENT
