"""Delivery records: one per change x subscriber x channel, the idempotency key of alerts.

A delivery is claimed with a conditional put *before* anything is sent, so a change that S3,
SNS or SQS delivers twice, or a Lambda retry, is sent once. Its status then says what became
of it:

- ``sending``: claimed, being sent now (a record left here by a crash mid-send is never sent
  again: at most once, never twice; ``policywatch deliveries`` shows it);
- ``sent``: the channel accepted it (SES/SNS message id, or the webhook's 2xx status);
- ``retrying``: the last attempt failed; the delivery queue holds the next one;
- ``failed``: every attempt failed; the job went to the delivery dead-letter queue (redriven
  from there, it gets a fresh round of attempts);
- ``cancelled``: the subscriber left, or their tier no longer covers the channel, before a retry.

Each retry attempt takes the record over with a conditional update on its attempt number, so a
retry message delivered twice is also sent once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError

from policywatch import aws, clock

STATUSES = ("sending", "sent", "retrying", "failed", "cancelled")


@dataclass(frozen=True)
class DeliveryKey:
    change_id: str
    subscriber_id: str
    channel: str  # "email", "sms", "webhook:<endpoint id>"

    @property
    def recipient(self) -> str:
        return f"{self.subscriber_id}#{self.channel}"

    def message(self) -> dict[str, str]:
        return {"change_id": self.change_id, "subscriber_id": self.subscriber_id, "channel": self.channel}


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

    def claim(self, key: DeliveryKey, *, reclaim_failed: bool = False) -> bool:
        """True when this call owns the first attempt; False when the delivery exists already.

        ``reclaim_failed``: a delivery that failed may be claimed again (the digest, rerun by its schedule).
        """
        now = clock.iso()
        item = {
            "change_id": key.change_id,
            "recipient": key.recipient,
            "subscriber_id": key.subscriber_id,
            "channel": key.channel,
            "status": "sending",
            "attempts": 1,
            "claimed_at": now,
            "updated_at": now,
            "expires_at": int(time.time()) + self.ttl_seconds,
        }
        request: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(change_id)"}
        if reclaim_failed:
            request = {
                "ConditionExpression": "attribute_not_exists(change_id) OR #s = :failed",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":failed": {"S": "failed"}},
            }
        return self._conditional(self._db.put_item, TableName=self.table_name, Item=aws.to_dynamodb(item), **request)

    def resume(self, key: DeliveryKey, attempt: int) -> bool:
        """Take over a delivery for attempt number ``attempt``; False if another attempt has it, or it was sent.

        A ``failed`` delivery is taken over too: its job came back from the dead-letter queue
        (an operator redrove it), and it gets a fresh round of attempts.
        """
        return self._update(
            key,
            "SET #s = :sending, attempts = :attempt, claimed_at = :now, updated_at = :now",
            condition="(#s = :retrying AND attempts = :previous) OR #s = :failed",
            sending="sending",
            retrying="retrying",
            failed="failed",
            attempt=attempt,
            previous=attempt - 1,
        )

    def sent(self, key: DeliveryKey, message_id: str, detail: str = "") -> None:
        self._update(
            key,
            "SET #s = :sent, sent_at = :now, updated_at = :now, message_id = :mid, detail = :detail "
            "REMOVE last_error, next_attempt_at",
            sent="sent",
            mid=message_id,
            detail=detail,
        )

    def retrying(self, key: DeliveryKey, error: str, delay_seconds: float) -> None:
        next_at = clock.iso(clock.now() + timedelta(seconds=delay_seconds))
        self._update(
            key,
            "SET #s = :retrying, last_error = :error, next_attempt_at = :next, updated_at = :now",
            retrying="retrying",
            error=error[:500],
            next=next_at,
        )

    def failed(self, key: DeliveryKey, error: str) -> None:
        self._update(
            key,
            "SET #s = :failed, last_error = :error, updated_at = :now REMOVE next_attempt_at",
            failed="failed",
            error=error[:500],
        )

    def cancelled(self, key: DeliveryKey, reason: str) -> None:
        self._update(
            key,
            "SET #s = :cancelled, detail = :reason, updated_at = :now REMOVE next_attempt_at",
            cancelled="cancelled",
            reason=reason,
        )

    def for_change(self, change_id: str) -> list[dict[str, Any]]:
        """Every delivery of one change, by recipient."""
        pages = self._db.get_paginator("query").paginate(
            TableName=self.table_name,
            KeyConditionExpression="change_id = :c",
            ExpressionAttributeValues={":c": {"S": change_id}},
            ConsistentRead=True,
        )
        return [aws.from_dynamodb(item) for page in pages for item in page.get("Items", [])]

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
