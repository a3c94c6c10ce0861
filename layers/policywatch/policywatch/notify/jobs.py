"""The delivery queue's jobs: their format both ways, the queue that carries them, and why an attempt failed.

A job names one delivery by ids only (addresses and secrets are read again when it runs) and
the change record it delivers. Light on purpose: the reconciler and the fan-out's hand-over use
it without loading what sending needs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from policywatch.core.backoff import RetryPolicy
from policywatch.core.errors import InputError, TransientError
from policywatch.notify.settings import RetrySettings
from policywatch.storage.deliveries import DeliveryKey
from policywatch.storage.errors import StorageError
from policywatch.storage.queues import Message, Queue

_EMAIL = re.compile(r"[^\s@<>(),;:\"']+@[^\s@<>(),;:\"']+")
_PHONE = re.compile(r"\+\d[\d ()-]{6,}\d")


class DeliveryError(TransientError):
    """A send failed; the message says why in one line, without personal data or secrets."""


MAX_DELAY_SECONDS = 900  # SQS DelaySeconds' limit, for the first hand-over
MAX_VISIBILITY_SECONDS = 12 * 3600  # SQS's limit for a message's visibility timeout


class DeliveryJobError(InputError):
    """A message on the delivery queue is not a delivery job."""


@dataclass(frozen=True)
class Job:
    key: DeliveryKey
    record_key: str
    attempt: int = 2  # the attempt this job's first receive makes
    after_failed: int | None = None  # an attempt known to have ended unsent, though its record says sending


def parse_job(body: str) -> tuple[DeliveryKey, str]:
    """The delivery and the change record a job names (``read_job`` has its attempt numbers too)."""
    job = read_job(body)
    return job.key, job.record_key


def read_job(body: str) -> Job:
    """A delivery queue message as a Job; DeliveryJobError naming what is wrong with it."""
    try:
        job = json.loads(body)
        parsed = Job(
            DeliveryKey(job["change_id"], job["subscriber_id"], job["channel"]),
            job["record_key"],
            job.get("attempt", 2),
            job.get("after_failed"),
        )
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise DeliveryJobError(f"not a delivery job: {type(exc).__name__}: {exc}") from None
    fields = (parsed.key.change_id, parsed.key.subscriber_id, parsed.key.channel, parsed.record_key)
    if not all(isinstance(value, str) and value for value in fields):
        raise DeliveryJobError("not a delivery job: ids must be non-empty strings")
    for name in ("attempt", "after_failed"):
        value = getattr(parsed, name)
        if value is not None and (type(value) is not int or value < 1):
            raise DeliveryJobError(f"not a delivery job: {name} must be a positive integer, not {value!r}")
    return parsed


def job_body(key: DeliveryKey, record_key: str, *, attempt: int = 2, after_failed: int | None = None) -> str:
    """The delivery queue's message for one delivery (ids only: addresses and secrets are read again).

    ``attempt``: the attempt its first receive makes (2: the fan-out made the first; 1: the fan-out
    handed it over unsent). ``after_failed``: the attempt that is known to have ended unsent although
    its record could not say so; the job may take that record over.
    """
    job: dict[str, Any] = {**key.message(), "record_key": record_key}
    if attempt != 2:
        job["attempt"] = attempt
    if after_failed is not None:
        job["after_failed"] = after_failed
    return json.dumps(job)


@dataclass(frozen=True)
class RetryQueue:
    """The delivery queue (one job per attempt still to make) and its dead-letter queue."""

    queue: Queue
    dead_letters: Queue
    policy: RetryPolicy = RetryPolicy(attempts=6, base_delay=30, max_delay=4 * 3600, jitter=0.5)

    @classmethod
    def from_settings(cls, config: RetrySettings) -> RetryQueue:
        policy = RetryPolicy(
            attempts=config.delivery_attempts, base_delay=config.delivery_backoff_base, max_delay=4 * 3600, jitter=0.5
        )
        return cls(Queue(config.delivery_queue_url), Queue(config.delivery_dead_letter_url), policy)

    def delay(self, failed_attempt: int) -> float:
        """Seconds before the attempt after ``failed_attempt`` (exponential, with jitter)."""
        return min(self.policy.backoff(failed_attempt), MAX_VISIBILITY_SECONDS)

    def schedule(
        self, key: DeliveryKey, record_key: str, delay: float, *, attempt: int = 2, after_failed: int | None = None
    ) -> None:
        """Put a job for attempt ``attempt`` on the delivery queue, visible after ``delay`` (at most 15 min)."""
        body = job_body(key, record_key, attempt=attempt, after_failed=after_failed)
        self.queue.send(Message(body, delay=int(min(max(delay, 0), MAX_DELAY_SECONDS))))

    def hand_over(self, keys: list[DeliveryKey], record_key: str) -> list[DeliveryKey]:
        """Jobs for the first attempt of ``keys``, visible at once; returns the keys SQS did not take."""
        refused = self.queue.send_batch([Message(job_body(key, record_key, attempt=1)) for key in keys])
        return [keys[index] for index, _ in refused]

    def dead_letter(self, body: str, reason: str) -> None:
        self.dead_letters.send(Message(body, attributes=(("reason", reason[:256]),)))


def describe(exc: BaseException) -> str:
    """One line on why a send failed, fit for a delivery record and the logs."""
    if isinstance(exc, DeliveryError):
        text = str(exc)
    elif isinstance(exc, StorageError):
        text = f"{exc.code}: {exc.aws_message}".strip()
    else:
        text = f"{type(exc).__name__}: {exc}"
    # Providers quote the address they refused; records and logs must not carry it.
    return _PHONE.sub("[phone]", _EMAIL.sub("[email]", text))[:500]
