"""Delivery records: one per change x subscriber x channel, the idempotency key of alerts.

A delivery is claimed with a conditional put *before* anything is sent, so a change that S3,
SNS or SQS delivers twice, or a Lambda retry, is sent once. Its status then says what became
of it:

- ``queued``: claimed by a fan-out that ran short of time and handed to the delivery queue,
  which makes its first attempt;
- ``sending``: claimed, being sent now;
- ``sent``: the channel accepted it (SES/SNS message id, or the webhook's 2xx status);
- ``retrying``: the last attempt failed; the delivery queue holds the next one;
- ``failed``: every attempt failed; the job went to the delivery dead-letter queue (redriven
  from there, it gets a fresh round of attempts);
- ``cancelled``: the subscriber left, or their tier no longer covers the channel, before a retry;
- ``interrupted``: an email or SMS left in ``sending`` (the process died mid-send, or the
  record could not be written after it): it may have gone out, so it is never sent again
  (``reconcile``).

Each retry attempt takes the record over with a conditional update on its attempt number, so a
retry message delivered twice is also sent once.

While a delivery is unsettled (queued, sending, retrying) its record carries ``unsettled`` (a
shard number) and ``overdue_at`` (when it should have moved on: the end of a send's lease, or
its next attempt plus a grace); settling removes both. They are the keys of the sparse
``unsettled`` index, so the reconciler reads only overdue records, never the table.

The ``by-subscriber`` index (subscriber id, newest claim first) gives a subscriber's own
deliveries (``recent``) and the records "delete my data" clears (``forget``). ``forget`` keeps
the audit trail, which is not personal once the subscriber is gone: the keys (``change_id``,
``recipient``, ``subscriber_id``, ``channel``: random ids and the channel's kind, ``email``,
``sms`` or ``webhook:<endpoint id>``), ``status``, ``attempts``, ``rescues``, the timestamps
(``claimed_at``, ``updated_at``, ``sent_at``, ``next_attempt_at``, ``overdue_at``), ``unsettled``
(the reconciler's shard), ``record_key`` (the public change record), ``expires_at`` (so TTL still
removes the record at the end of its retention) and ``forgotten_at``. They say which change went
to which pseudonymous recipient, by which channel, when, after how many attempts and with what
outcome: what an operator or an auditor needs to show that alerts went out, and what keeps a
redelivered change from alerting twice. Every other attribute is removed: ``detail`` and
``last_error`` (free text: an SES or SNS error can quote the address or the number, a webhook
error names the receiver's host, its IP address or a redirect's Location), ``message_id`` (the
SES or SNS id leads to the provider's logs, which hold the address), and any attribute added
later that is not in the kept list.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from policywatch.core import clock
from policywatch.storage import clients as aws
from policywatch.storage.errors import adapter

STATUSES = ("queued", "sending", "sent", "retrying", "failed", "cancelled", "interrupted")
UNSETTLED = ("queued", "sending", "retrying")

UNSETTLED_INDEX = "unsettled"
LEDGER_PREFIX = "#"  # a fan-out's ledger, kept under the change's id too (storage.fanouts); never a recipient
SUBSCRIBER_INDEX = "by-subscriber"
# What "delete my data" keeps of a delivery record: its audit trail (the module docstring says why).
KEPT_WHEN_FORGOTTEN = frozenset(
    ("change_id", "recipient", "subscriber_id", "channel")  # the keys: random ids and the channel's kind
    + ("status", "attempts", "rescues", "record_key")  # the outcome, and the public change record it was about
    + ("claimed_at", "updated_at", "sent_at", "next_attempt_at", "overdue_at", "unsettled", "expires_at")
    + ("forgotten_at",)
)
_PERSONAL = frozenset({"detail", "last_error", "message_id"})  # free text naming addresses; provider message ids
UNSETTLED_SHARDS = 8  # index partitions: a fan-out to 10,000 writes them all at once; one key would throttle
# Longer than any attempt can last (NotifyFunction 120 s, DigestFunction 300 s, and the delivery
# queue's 360 s visibility, after which a job whose attempt crashed is received again).
SENDING_LEASE_SECONDS = 900
OVERDUE_GRACE_SECONDS = 900  # a queued or retrying delivery's job should have been received by then


@dataclass(frozen=True)
class DeliveryKey:
    change_id: str
    subscriber_id: str
    channel: str  # "email", "sms", "webhook:<endpoint id>"

    @property
    def recipient(self) -> str:
        return f"{self.subscriber_id}#{self.channel}"

    @property
    def shard(self) -> str:
        """The record's partition of the ``unsettled`` index (stable, spread evenly)."""
        digest = hashlib.sha256(f"{self.change_id}\x00{self.recipient}".encode()).digest()
        return str(digest[0] % UNSETTLED_SHARDS)

    def message(self) -> dict[str, str]:
        return {"change_id": self.change_id, "subscriber_id": self.subscriber_id, "channel": self.channel}

    @classmethod
    def of(cls, record: dict[str, Any]) -> DeliveryKey:
        return cls(record["change_id"], record["subscriber_id"], record["channel"])


def is_overdue(record: dict[str, Any], now: datetime | None = None) -> bool:
    """True when an unsettled record should have moved on by now (what ``policywatch deliveries`` flags as stuck)."""
    return record.get("status") in UNSETTLED and record.get("overdue_at", "9") < clock.iso(now)


def _later(seconds: float, now: datetime | None = None) -> str:
    return clock.iso((now or clock.now()) + timedelta(seconds=seconds))


@adapter
class Deliveries:
    """Data access for the deliveries table (low-level client: safe to share across threads)."""

    def __init__(self, table_name: str, ttl_days: int = 400) -> None:
        self.table_name = table_name
        self.ttl_seconds = ttl_days * 86400

    @property
    def _db(self) -> Any:
        return aws.client("dynamodb")

    def _key(self, key: DeliveryKey) -> dict[str, Any]:
        return aws.to_dynamodb({"change_id": key.change_id, "recipient": key.recipient})

    def claim(self, key: DeliveryKey, *, record_key: str = "", reclaim_failed: bool = False) -> bool:
        """True when this call owns the first attempt; False when the delivery exists already.

        ``record_key``: the change record, kept so the reconciler can rebuild a retry job.
        ``reclaim_failed``: a delivery that failed may be claimed again (the digest, rerun by its schedule).
        """
        return self._create(key, "sending", 1, SENDING_LEASE_SECONDS, record_key, reclaim_failed=reclaim_failed)

    def queue(self, key: DeliveryKey, record_key: str) -> bool:
        """Claim a delivery for the delivery queue to make its first attempt; False if it exists already."""
        return self._create(key, "queued", 0, OVERDUE_GRACE_SECONDS, record_key)

    def _create(
        self, key: DeliveryKey, status: str, attempts: int, due_in: float, record_key: str, reclaim_failed: bool = False
    ) -> bool:
        now = clock.iso()
        item = {
            "change_id": key.change_id,
            "recipient": key.recipient,
            "subscriber_id": key.subscriber_id,
            "channel": key.channel,
            "status": status,
            "attempts": attempts,
            "claimed_at": now,
            "updated_at": now,
            "expires_at": int(time.time()) + self.ttl_seconds,
            "unsettled": key.shard,
            "overdue_at": _later(due_in),
        }
        if record_key:
            item["record_key"] = record_key
        if status == "queued":
            item["next_attempt_at"] = now
        request: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(change_id)"}
        if reclaim_failed:
            request = {
                "ConditionExpression": "attribute_not_exists(change_id) OR #s = :failed",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":failed": {"S": "failed"}},
            }
        return self._conditional(self._db.put_item, TableName=self.table_name, Item=aws.to_dynamodb(item), **request)

    def release(self, key: DeliveryKey, status: str, attempts: int) -> bool:
        """Give a claim back (nothing was sent, and no job will make the next attempt): the change's redelivery claims it again."""
        return self._conditional(
            self._db.delete_item,
            TableName=self.table_name,
            Key=self._key(key),
            ConditionExpression="#s = :status AND attempts = :attempts",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=aws.to_dynamodb({":status": status, ":attempts": attempts}),
        )

    def resume(self, key: DeliveryKey, attempt: int, *, record_key: str = "", after_failed: int | None = None) -> bool:
        """Take over a delivery for attempt number ``attempt``; False if another attempt has it, or it was sent.

        A queued or retrying delivery whose last attempt is older is taken over. A ``failed``
        delivery is taken over too: its job came back from the dead-letter queue (an operator
        redrove it), and it gets a fresh round of attempts. ``after_failed``: the job vouches that
        this attempt ended without sending, though its record could not say so (still ``sending``).
        """
        condition = "(#s IN (:queued, :retrying) AND attempts < :attempt) OR #s = :failed"
        if after_failed is not None:
            condition += " OR (#s = :sending AND attempts = :vouched)"
        return self._update(
            key,
            "SET #s = :sending, attempts = :attempt, claimed_at = :now, updated_at = :now, "
            "unsettled = :shard, overdue_at = :due" + (", record_key = :record" if record_key else ""),
            condition=condition,
            sending="sending",
            queued="queued",
            retrying="retrying",
            failed="failed",
            attempt=attempt,
            shard=key.shard,
            due=_later(SENDING_LEASE_SECONDS),
            **({"record": record_key} if record_key else {}),
            **({"vouched": after_failed} if after_failed is not None else {}),
        )

    def sent(self, key: DeliveryKey, message_id: str, detail: str = "") -> None:
        self._update(
            key,
            "SET #s = :sent, sent_at = :now, updated_at = :now, message_id = :mid, detail = :detail "
            "REMOVE last_error, next_attempt_at, unsettled, overdue_at",
            sent="sent",
            mid=message_id,
            detail=detail,
        )

    def retrying(self, key: DeliveryKey, error: str, delay_seconds: float) -> None:
        next_at = clock.now() + timedelta(seconds=delay_seconds)
        self._update(
            key,
            "SET #s = :retrying, last_error = :error, next_attempt_at = :next, updated_at = :now, "
            "unsettled = :shard, overdue_at = :due",
            retrying="retrying",
            error=error[:500],
            next=clock.iso(next_at),
            shard=key.shard,
            due=_later(OVERDUE_GRACE_SECONDS, next_at),
        )

    def failed(self, key: DeliveryKey, error: str) -> None:
        self._update(
            key,
            "SET #s = :failed, last_error = :error, updated_at = :now REMOVE next_attempt_at, unsettled, overdue_at",
            failed="failed",
            error=error[:500],
        )

    def cancelled(self, key: DeliveryKey, reason: str) -> None:
        self._update(
            key,
            "SET #s = :cancelled, detail = :reason, updated_at = :now REMOVE next_attempt_at, unsettled, overdue_at",
            cancelled="cancelled",
            reason=reason,
        )

    # ------------------------------------------------------------ the reconciler's side

    def overdue(self, now: datetime | None = None, limit: int = 1000) -> Iterator[dict[str, Any]]:
        """Unsettled records past their ``overdue_at``, from the sparse index (at most ``limit``)."""
        found = 0
        for shard in range(UNSETTLED_SHARDS):
            request: dict[str, Any] = {
                "TableName": self.table_name,
                "IndexName": UNSETTLED_INDEX,
                "KeyConditionExpression": "unsettled = :shard AND overdue_at < :now",
                "ExpressionAttributeValues": aws.to_dynamodb({":shard": str(shard), ":now": clock.iso(now)}),
                "Limit": min(limit, 100),
            }
            for item in aws.all_items(self._db.query, **request):
                yield aws.from_dynamodb(item)
                found += 1
                if found >= limit:
                    return

    def rescheduled(self, record: dict[str, Any], note: str, now: datetime | None = None) -> bool:
        """Mark an overdue record as handed to the delivery queue again, unless it moved on meanwhile.

        A ``sending`` record becomes ``retrying`` (its attempt was interrupted: ``note`` is its
        error); a queued or retrying one keeps its status and last error. Either is due again
        after the grace, and counts one more rescue.
        """
        interrupted = record["status"] == "sending"
        return self._update(
            DeliveryKey.of(record),
            "SET #s = :status, detail = :note, next_attempt_at = :now, updated_at = :now, overdue_at = :due, "
            "rescues = if_not_exists(rescues, :zero) + :one" + (", last_error = :note" if interrupted else ""),
            condition="#s = :seen AND attempts = :attempts AND overdue_at = :overdue",
            status="retrying" if interrupted else record["status"],
            note=note[:500],
            due=_later(OVERDUE_GRACE_SECONDS, now),
            zero=0,
            one=1,
            seen=record["status"],
            attempts=record["attempts"],
            overdue=record["overdue_at"],
        )

    def settled_as(self, record: dict[str, Any], status: str, reason: str) -> bool:
        """Settle an overdue record as ``interrupted`` or ``failed``, unless it moved on meanwhile."""
        return self._update(
            DeliveryKey.of(record),
            "SET #s = :status, last_error = :error, detail = :error, updated_at = :now "
            "REMOVE next_attempt_at, unsettled, overdue_at",
            condition="#s = :seen AND attempts = :attempts AND overdue_at = :overdue",
            status=status,
            error=reason[:500],
            seen=record["status"],
            attempts=record["attempts"],
            overdue=record["overdue_at"],
        )

    def existing(self, keys: list[DeliveryKey], *, but: tuple[str, ...] = ()) -> set[DeliveryKey]:
        """Which of ``keys`` have a record (claimed before) in any status but ``but``: one BatchGetItem per hundred."""
        found: set[DeliveryKey] = set()
        by_recipient = {(key.change_id, key.recipient): key for key in keys}
        wanted = list(by_recipient)
        for start in range(0, len(wanted), 100):
            request: dict[str, Any] = {
                self.table_name: {
                    "Keys": [aws.to_dynamodb({"change_id": c, "recipient": r}) for c, r in wanted[start : start + 100]],
                    "ProjectionExpression": "change_id, recipient, #s",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ConsistentRead": True,
                }
            }
            while request:
                response = self._db.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    if item.get("status", {}).get("S") not in but:
                        found.add(by_recipient[(item["change_id"]["S"], item["recipient"]["S"])])
                request = response.get("UnprocessedKeys") or {}
        return found

    def for_change(self, change_id: str) -> list[dict[str, Any]]:
        """Every delivery of one change, by recipient (its fan-out's ledger, kept beside them, left out)."""
        pages = self._db.get_paginator("query").paginate(
            TableName=self.table_name,
            KeyConditionExpression="change_id = :c",
            ExpressionAttributeValues={":c": {"S": change_id}},
            ConsistentRead=True,
        )
        items = (aws.from_dynamodb(item) for page in pages for item in page.get("Items", []))
        return [item for item in items if not str(item["recipient"]).startswith(LEDGER_PREFIX)]

    # ------------------------------------------------------------ a subscriber's own records

    def recent(self, subscriber_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """A subscriber's latest deliveries, newest claim first (at most ``limit``; the index lags writes slightly)."""
        found: list[dict[str, Any]] = []
        if limit < 1:
            return found
        request = self._by_subscriber(subscriber_id) | {"ScanIndexForward": False, "Limit": min(limit, 100)}
        for item in aws.all_items(self._db.query, **request):
            found.append(aws.from_dynamodb(item))
            if len(found) >= limit:
                break
        return found

    def forget(self, subscriber_id: str) -> int:
        """Remove what identifies a person from each of a subscriber's delivery records; how many there were.

        Only ``KEPT_WHEN_FORGOTTEN`` stays, and ``forgotten_at`` is set (the first time). A record
        deleted meanwhile is not written back. Safe to run again: a delivery still in flight may
        write its outcome after it, and the index lags writes by a moment.
        """
        request = self._by_subscriber(subscriber_id)
        records = [aws.from_dynamodb(item) for item in aws.all_items(self._db.query, **request)]
        forgotten = 0
        for record in records:
            # The index's copy may lag the record: the known personal fields go whether it shows them or not.
            removed = sorted((set(record) | _PERSONAL) - KEPT_WHEN_FORGOTTEN)
            names = {f"#r{i}": name for i, name in enumerate(removed)}
            forgotten += self._conditional(
                self._db.update_item,
                TableName=self.table_name,
                Key=self._key(DeliveryKey.of(record)),
                UpdateExpression="SET forgotten_at = if_not_exists(forgotten_at, :now) REMOVE " + ", ".join(names),
                ConditionExpression="attribute_exists(change_id)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={":now": {"S": clock.iso()}},
            )
        return forgotten

    def _by_subscriber(self, subscriber_id: str) -> dict[str, Any]:
        return {
            "TableName": self.table_name,
            "IndexName": SUBSCRIBER_INDEX,
            "KeyConditionExpression": "subscriber_id = :s",
            "ExpressionAttributeValues": {":s": {"S": subscriber_id}},
        }

    def _update(self, key: DeliveryKey, expression: str, condition: str | None = None, **values: Any) -> bool:
        values["now"] = clock.iso()
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": self._key(key),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": aws.to_dynamodb({f":{name}": value for name, value in values.items()}),
        }
        if condition:
            request["ConditionExpression"] = condition
        return self._conditional(self._db.update_item, **request)

    @staticmethod
    def _conditional(operation: Any, **request: Any) -> bool:
        try:
            operation(**request)
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
