"""Retries of failed deliveries, carried by the delivery queue, never by sleeping.

The fan-out hands a failed delivery to the queue with a delay (attempt 2), and a delivery it
had no time to start with none (attempt 1). Each later attempt is a receive of the same
message: its attempt number is the job's first attempt plus SQS's ``ApproximateReceiveCount``
minus one, which survives Lambda restarts, and a failure sets the message's visibility to an
exponential backoff with jitter before reporting it as a batch item failure. When the last
attempt fails, the delivery is recorded as ``failed`` and the job is moved to the delivery
dead-letter queue with the reason (the queue's redrive policy is only the backstop for jobs
that crash the function).

A failed attempt is recorded before anything else, so the next one can take the delivery over.
When the record cannot be written, the job that carries the delivery on vouches for the attempt
instead (``after_failed``): no path leaves a claimed delivery with nobody to finish it, short of
the reconciler (``reconcile``), which finds what a crash left behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from aws_lambda_powertools import Logger

from policywatch.notify import dispatch, jobs
from policywatch.notify.dispatch import DeliveryOptions, Renderings
from policywatch.notify.jobs import Job, RetryQueue, read_job
from policywatch.storage.deliveries import Deliveries
from policywatch.storage.sendrate import NoSendSlot
from policywatch.storage.subscribers import Subscribers
from policywatch.subscribers import SubscriberError, entitlement

logger = Logger(child=True)

NO_SLOT_DELAY_SECONDS = 30  # a job that found no send slot before its invocation's end comes back this soon


class RedeliveryOutcome(Enum):
    SENT = "sent"
    DUPLICATE = "duplicate"
    CANCELLED = "cancelled"
    RETRY = "retry"  # this message comes back after the backoff
    RESCHEDULED = "rescheduled"  # a new job carries the delivery on (its record could not be written, or no send slot)
    FAILED = "failed"


@dataclass(frozen=True)
class Redelivery:
    outcome: RedeliveryOutcome
    attempt: int
    retry_in: float = 0.0
    reason: str = ""


def redeliver(
    body: str,
    receive_count: int,
    *,
    subscribers: Subscribers,
    deliveries: Deliveries,
    options: DeliveryOptions,
    retries: RetryQueue,
    load_change: Callable[[str], dict[str, Any]],
) -> Redelivery:
    """One attempt of one delivery, from its queue message."""
    job = read_job(body)
    key = job.key
    attempt = job.attempt + receive_count - 1
    change = load_change(job.record_key)  # before taking the delivery over: a missing record only waits
    try:  # the send slot before taking the delivery over: one taken over is sent at once
        dispatch.pace(key.channel, options)
    except NoSendSlot as exc:  # none in this invocation: the same attempt, from a new job, a little later
        retries.schedule(key, job.record_key, NO_SLOT_DELAY_SECONDS, attempt=attempt, after_failed=job.after_failed)
        return Redelivery(RedeliveryOutcome.RESCHEDULED, attempt, retry_in=NO_SLOT_DELAY_SECONDS, reason=str(exc))
    if not deliveries.resume(key, attempt, record_key=job.record_key, after_failed=job.after_failed):
        return Redelivery(RedeliveryOutcome.DUPLICATE, attempt)
    try:
        subscriber = subscribers.get(key.subscriber_id)
        granted = entitlement(subscriber, change)
        if granted is None or key.channel not in granted.channels:
            deliveries.cancelled(key, "the subscription no longer covers this channel")
            return Redelivery(RedeliveryOutcome.CANCELLED, attempt)
        message_id, detail = dispatch.send(key, subscriber, granted.plan, Renderings(change, options.links), options)
    except SubscriberError:
        deliveries.cancelled(key, "the subscriber was removed")
        return Redelivery(RedeliveryOutcome.CANCELLED, attempt)
    except Exception as exc:  # the delivery is ours now: every failure is recorded as an attempt
        return _after_failure(job, body, attempt, jobs.describe(exc), deliveries=deliveries, retries=retries)
    try:
        deliveries.sent(key, message_id, detail)
    except Exception as exc:  # it went out: receiving this job again must not send it twice
        logger.error(
            "delivery sent but not recorded; the reconciler settles it",
            extra={**vars(key), "attempt": attempt, "error": jobs.describe(exc)},
        )
    return Redelivery(RedeliveryOutcome.SENT, attempt)


def _after_failure(
    job: Job, body: str, attempt: int, reason: str, *, deliveries: Deliveries, retries: RetryQueue
) -> Redelivery:
    """Record a failed attempt and make sure the next one (or the dead-letter queue) has the delivery."""
    key = job.key
    if attempt >= retries.policy.attempts:
        try:
            deliveries.failed(key, reason)
        except Exception as exc:  # the record still says sending: the dead letter vouches for this attempt
            logger.warning("could not record the failure", extra={**vars(key), "error": jobs.describe(exc)})
            body = jobs.job_body(key, job.record_key, after_failed=attempt)
        retries.dead_letter(body, reason)  # raising, this message comes back and makes one more attempt
        logger.error("delivery failed for good", extra={**vars(key), "attempt": attempt, "error": reason})
        return Redelivery(RedeliveryOutcome.FAILED, attempt, reason=reason)
    delay = retries.delay(attempt)
    try:
        deliveries.retrying(key, reason, delay)
    except Exception as exc:
        # This message, received again, could not tell the record's "sending" from a crash mid-send;
        # a new job vouching for this attempt can. If that fails too, the reconciler has it.
        logger.warning("could not record the failure", extra={**vars(key), "error": jobs.describe(exc)})
        retries.schedule(key, job.record_key, delay, attempt=attempt + 1, after_failed=attempt)
        return Redelivery(RedeliveryOutcome.RESCHEDULED, attempt, retry_in=delay, reason=reason)
    logger.warning("delivery failed again", extra={**vars(key), "attempt": attempt, "error": reason})
    return Redelivery(RedeliveryOutcome.RETRY, attempt, retry_in=delay, reason=reason)
