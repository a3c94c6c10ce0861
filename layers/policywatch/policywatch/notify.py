"""Notify stage rules: fan a change out to the subscribers watching its platform, by tier."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from policywatch.channels.email import send_email
from policywatch.channels.render import alert_email, alert_sms
from policywatch.channels.sms import send_sms
from policywatch.deliveries import Deliveries
from policywatch.subscribers import Subscribers
from policywatch.tiers import TierError, tier

logger = Logger(child=True)


@dataclass
class FanOut:
    """What one change did: deliveries sent, skipped as duplicates, left to the digest."""

    sent: list[str] = field(default_factory=list)
    duplicates: int = 0
    deferred_to_digest: int = 0


def deliver_change(change: dict[str, Any], *, subscribers: Subscribers, deliveries: Deliveries, sender: str) -> FanOut:
    """Send ``change`` on every channel each watcher's tier allows, once per channel.

    A channel that fails releases its claim and re-raises, so the queue retries the
    change; channels already sent are not sent again on that retry.
    """
    result = FanOut()
    if not change.get("alert"):
        return result
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
        for channel, send in _channels(change, watcher, plan.channels, sender):
            if not deliveries.claim(change["change_id"], watcher["subscriber_id"], channel):
                result.duplicates += 1
                continue
            try:
                message_id = send()
            except Exception:
                deliveries.release(change["change_id"], watcher["subscriber_id"], channel)
                logger.exception(
                    "delivery failed", extra={"subscriber_id": watcher["subscriber_id"], "channel": channel}
                )
                raise
            deliveries.mark_sent(change["change_id"], watcher["subscriber_id"], channel, message_id)
            result.sent.append(f"{watcher['subscriber_id']}#{channel}")
    logger.info(
        "change delivered",
        extra={"change_id": change["change_id"], "sent": len(result.sent), "duplicates": result.duplicates},
    )
    return result


def _channels(
    change: dict[str, Any], watcher: dict[str, Any], allowed: tuple[str, ...], sender: str
) -> list[tuple[str, Callable[[], str]]]:
    channels: list[tuple[str, Callable[[], str]]] = []
    if "email" in allowed:
        subject, text, html = alert_email(change)
        channels.append(("email", lambda: send_email(sender, watcher["email"], subject, text, html)))
    if "sms" in allowed and watcher.get("phone"):
        channels.append(("sms", lambda: send_sms(watcher["phone"], alert_sms(change))))
    return channels
