"""Send slots shared by every instance of every function: SES's and SNS's per-second quotas, paced.

One item per channel in the send-rate table holds ``next_us``: the moment (microseconds since the
epoch) from which send slots are free. An instance reserves a block of slots with one atomic
``ADD next_us :block`` (one slot per ``1 / rate`` seconds) and sends each at its slot's time, so
every instance of the notify, delivery, digest and reminder functions draws from one schedule
and the account's sends are spaced evenly, whatever the number of instances. ``ADD`` never
conflicts, so instances do not retry against each other; a block of slots (up to a twentieth of
a second's worth) keeps the writes to about twenty a second per channel at any rate.

After a quiet spell the counter lies in the past: using those slots would send a burst, so a
reservation that starts in the past is dropped and the counter moved to now (a conditional
write: if another instance moved it first, the reservation is made again).

A throttling answer from SES or SNS (``slow_down``) pushes the counter a second on: every
instance then waits, not just the one that was refused. An instance slows the schedule down at
most once a second, however many of its sends were refused together.

Slots are paced at ``HEADROOM`` of the quota: network jitter bunches sends up on the way to SES,
and so may a slot used up to ``LATE_US`` after its time (an instance slower than its block's
spacing); a slot older than that, or reserved and not used (an invocation that ran out of
time), is lost, never given to a burst. Why DynamoDB and not ElastiCache, a queue's concurrency or reserved
concurrency: decision 0040.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from typing import Any

from botocore.exceptions import ClientError

from policywatch.core.errors import TransientError
from policywatch.storage import clients as aws
from policywatch.storage.errors import adapter

HEADROOM = 0.9
BLOCK_SECONDS = 0.05  # a block holds at most this long's slots
MAX_BLOCK = 25
SLOW_DOWN_SECONDS = 1.0
# A reserved slot may still be used this late (an instance slower than its block's spacing):
# at most a tenth of a second's sends bunch up, within the headroom; older slots are dropped.
LATE_US = 100_000


class NoSendSlot(TransientError):
    """No send slot comes before the caller's deadline: the send is left for a later attempt."""


@adapter
class SendRate:
    """At most ``rate`` sends a second on ``channel``, across every process sharing ``table_name``."""

    def __init__(self, table_name: str, channel: str, rate: float) -> None:
        if rate <= 0:
            raise ValueError(f"a send rate must be positive, not {rate}")
        self.table_name = table_name
        self.channel = channel
        self.rate = rate
        self.interval_us = max(1, int(1_000_000 / (rate * HEADROOM)))
        self.block = max(1, min(MAX_BLOCK, int(rate * HEADROOM * BLOCK_SECONDS)))
        self._lock = threading.Lock()
        self._slots: deque[int] = deque()
        self._slowed_at = 0.0
        self.reservations = 0  # DynamoDB writes made, for the benchmark
        self.slowed = 0  # times this instance slowed the schedule down

    @property
    def _db(self) -> Any:
        return aws.client("dynamodb")

    def wait(self, deadline: float | None = None) -> None:
        """Sleep until this caller's send slot; NoSendSlot if it comes after ``deadline`` (``time.monotonic()``)."""
        slot = self._take()
        delay = slot / 1_000_000 - time.time()
        if deadline is not None and time.monotonic() + max(delay, 0) > deadline:
            raise NoSendSlot(
                f"{self.channel}: no send slot before the deadline ({delay:.1f} s away at {self.rate:g}/s)"
            )
        if delay > 0:
            time.sleep(delay)

    def slow_down(self) -> None:
        """SES or SNS throttled a send: push every instance's schedule ``SLOW_DOWN_SECONDS`` later."""
        with self._lock:
            if time.monotonic() - self._slowed_at < SLOW_DOWN_SECONDS:
                return  # this instance slowed it down a moment ago: once is enough
            self._slowed_at = time.monotonic()
            self._slots.clear()  # they were given out before the slow-down
        later = int(SLOW_DOWN_SECONDS * 1_000_000)
        try:  # unless the schedule is a second ahead already (other instances were refused too)
            self._db.update_item(
                TableName=self.table_name,
                Key={"limiter": {"S": self.channel}},
                UpdateExpression="ADD next_us :later",
                ConditionExpression="attribute_not_exists(next_us) OR next_us < :ahead",
                ExpressionAttributeValues={
                    ":later": {"N": str(later)},
                    ":ahead": {"N": str(int(time.time() * 1_000_000) + later)},
                },
            )
            self.slowed += 1
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def _take(self) -> int:
        with self._lock:
            now = int(time.time() * 1_000_000)
            while self._slots and self._slots[0] < now - LATE_US:
                self._slots.popleft()  # kept too long (a frozen or idle instance): a burst if used now
            if not self._slots:
                self._slots.extend(self._reserve(now))
            return self._slots.popleft()

    def _reserve(self, now: int) -> list[int]:
        span = self.block * self.interval_us
        while True:
            response = self._db.update_item(
                TableName=self.table_name,
                Key={"limiter": {"S": self.channel}},
                UpdateExpression="ADD next_us :span",
                ExpressionAttributeValues={":span": {"N": str(span)}},
                ReturnValues="UPDATED_NEW",
            )
            self.reservations += 1
            end = int(response["Attributes"]["next_us"]["N"])
            start = end - span
            if start >= now - self.interval_us:
                return [start + i * self.interval_us for i in range(self.block)]
            # The schedule lies in the past (nobody sent for a while): start it at now instead.
            try:
                self._db.update_item(
                    TableName=self.table_name,
                    Key={"limiter": {"S": self.channel}},
                    UpdateExpression="SET next_us = :fresh",
                    ConditionExpression="next_us = :seen",
                    ExpressionAttributeValues={":fresh": {"N": str(now + span)}, ":seen": {"N": str(end)}},
                )
                self.reservations += 1
                return [now + i * self.interval_us for i in range(self.block)]
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                time.sleep(random.uniform(0, 0.005))  # noqa: S311 - jitter; another instance moved it: reserve again
                now = int(time.time() * 1_000_000)
