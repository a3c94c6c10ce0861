"""Retries of failed deliveries, carried by the delivery queue, never by sleeping.

The fan-out hands a failed delivery to the queue with a delay (attempt 2). Each later attempt
is a receive of the same message: its attempt number is 1 + SQS's ``ApproximateReceiveCount``,
which survives Lambda restarts, and a failure sets the message's visibility to an
exponential backoff with jitter before reporting it as a batch item failure. When the last
attempt fails, the delivery is recorded as ``failed`` and the job is moved to the delivery
dead-letter queue with the reason (the queue's redrive policy is only the backstop for jobs
that crash the function).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from aws_lambda_powertools import Logger

from policywatch import aws, dispatch
from policywatch.config import Settings, require
from policywatch.deliveries import Deliveries, DeliveryKey
from policywatch.dispatch import Channels, Renderings
from policywatch.fetcher import RetryPolicy
from policywatch.subscribers import SubscriberError, Subscribers, entitlement

logger = Logger(child=True)

MAX_DELAY_SECONDS = 900  # SQS DelaySeconds' limit, for the first hand-over
MAX_VISIBILITY_SECONDS = 12 * 3600  # SQS's limit for a message's visibility timeout


@dataclass(frozen=True)
class RetryQueue:
    queue_url: str
    dead_letter_url: str
    policy: RetryPolicy = RetryPolicy(attempts=6, base_delay=30, max_delay=4 * 3600, jitter=0.5)

    @classmethod
    def from_settings(cls, config: Settings) -> RetryQueue:
        policy = RetryPolicy(
            attempts=config.delivery_attempts, base_delay=config.delivery_backoff_base, max_delay=4 * 3600, jitter=0.5
        )
        return cls(
            require(config.delivery_queue_url, "DELIVERY_QUEUE_URL"),
            require(config.delivery_dead_letter_url, "DELIVERY_DLQ_URL"),
            policy,
        )

    def delay(self, failed_attempt: int) -> float:
        """Seconds before the attempt after ``failed_attempt`` (exponential, with jitter)."""
        return min(self.policy.backoff(failed_attempt), MAX_VISIBILITY_SECONDS)

    def schedule(self, key: DeliveryKey, record_key: str, delay: float) -> None:
        aws.client("sqs").send_message(
            QueueUrl=self.queue_url,
            MessageBody=dispatch.job_body(key, record_key),
            DelaySeconds=int(min(delay, MAX_DELAY_SECONDS)),
        )

    def dead_letter(self, body: str, reason: str) -> None:
        aws.client("sqs").send_message(
            QueueUrl=self.dead_letter_url,
            MessageBody=body,
            MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:256]}},
        )


class Outcome(Enum):
    SENT = "sent"
    DUPLICATE = "duplicate"
    CANCELLED = "cancelled"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class Redelivery:
    outcome: Outcome
    attempt: int
    retry_in: float = 0.0
    reason: str = ""


class DeliveryJobError(ValueError):
    """A message on the delivery queue is not a delivery job."""


def parse_job(body: str) -> tuple[DeliveryKey, str]:
    try:
        job = json.loads(body)
        return DeliveryKey(job["change_id"], job["subscriber_id"], job["channel"]), job["record_key"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DeliveryJobError(f"not a delivery job: {exc}") from None


def redeliver(
    body: str,
    receive_count: int,
    *,
    subscribers: Subscribers,
    deliveries: Deliveries,
    channels: Channels,
    retries: RetryQueue,
    load_change: Callable[[str], dict[str, Any]],
) -> Redelivery:
    """One retry attempt of one delivery, from its queue message."""
    key, record_key = parse_job(body)
    attempt = receive_count + 1  # the fan-out made attempt 1
    change = load_change(record_key)  # before taking the delivery over: a missing record only waits
    if not deliveries.resume(key, attempt):
        return Redelivery(Outcome.DUPLICATE, attempt)
    try:
        subscriber = subscribers.get(key.subscriber_id)
        granted = entitlement(subscriber, change)
        if granted is None or key.channel not in granted.channels:
            deliveries.cancelled(key, "the subscription no longer covers this channel")
            return Redelivery(Outcome.CANCELLED, attempt)
        message_id, detail = dispatch.send(key, subscriber, granted.plan, Renderings(change, channels.links), channels)
    except SubscriberError:
        deliveries.cancelled(key, "the subscriber was removed")
        return Redelivery(Outcome.CANCELLED, attempt)
    except Exception as exc:  # the delivery is ours now: every failure is recorded as an attempt
        reason = dispatch.describe(exc)
        if attempt >= retries.policy.attempts:
            deliveries.failed(key, reason)
            retries.dead_letter(body, reason)
            logger.error("delivery failed for good", extra={**vars(key), "attempt": attempt, "error": reason})
            return Redelivery(Outcome.FAILED, attempt, reason=reason)
        delay = retries.delay(attempt)
        deliveries.retrying(key, reason, delay)
        logger.warning("delivery failed again", extra={**vars(key), "attempt": attempt, "error": reason})
        return Redelivery(Outcome.RETRY, attempt, retry_in=delay, reason=reason)
    deliveries.sent(key, message_id, detail)
    return Redelivery(Outcome.SENT, attempt)
