"""Notify stage rules: fan a change out to the subscribers watching its platform, by tier."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aws_lambda_powertools import Logger

from policywatch.channels.email import send_email
from policywatch.channels.render import alert_email, alert_sms
from policywatch.channels.sms import send_sms
from policywatch.deliveries import Deliveries
from policywatch.subscribers import Subscribers
from policywatch.tiers import TierError, tier

logger = Logger(child=True)

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
)


class ChangeEventError(ValueError):
    """A message on the notify queue is not a change event; it goes to the DLQ, nothing is sent."""


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


@dataclass
class FanOut:
    """What one change did: deliveries sent, skipped as duplicates, left to the digest."""

    sent: list[str] = field(default_factory=list)
    duplicates: int = 0
    deferred_to_digest: int = 0


def deliver_change(change: dict[str, Any], *, subscribers: Subscribers, deliveries: Deliveries, sender: str) -> FanOut:
    """Send ``change`` on every channel each watcher's tier allows, once per channel.

    A channel that fails re-raises (its claim released), so the queue retries the change;
    channels already sent are not sent again on that retry.
    """
    result = FanOut()
    if not change.get("alert"):
        return result
    # Rendered once per change, not once per watcher: the text is the same for all.
    subject, text, html = alert_email(change)
    sms_text = alert_sms(change)
    for watcher in subscribers.watchers(change["platform"]):
        if watcher.get("status") != "active":
            continue
        try:
            plan = tier(watcher["tier"])
        except TierError:
            logger.error("subscriber has an unknown tier", extra={"subscriber_id": watcher["subscriber_id"]})
            continue
        if not plan.same_day:
            result.deferred_to_digest += 1
            continue
        senders: list[tuple[str, Callable[[], str]]] = []
        if "email" in plan.channels:
            senders.append(("email", partial(send_email, sender, watcher["email"], subject, text, html)))
        if "sms" in plan.channels and watcher.get("phone"):
            senders.append(("sms", partial(send_sms, watcher["phone"], sms_text)))
        for channel, send in senders:
            try:
                sent = deliveries.send_once(change["change_id"], watcher["subscriber_id"], channel, send)
            except Exception:
                logger.exception(
                    "delivery failed", extra={"subscriber_id": watcher["subscriber_id"], "channel": channel}
                )
                raise
            if sent:
                result.sent.append(f"{watcher['subscriber_id']}#{channel}")
            else:
                result.duplicates += 1
    logger.info(
        "change delivered",
        extra={
            "change_id": change["change_id"],
            "sent": len(result.sent),
            "duplicates": result.duplicates,
            "deferred_to_digest": result.deferred_to_digest,
        },
    )
    return result
