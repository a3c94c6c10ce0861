"""Delivery records: one per change x subscriber x channel, the idempotency key of alerts.

A delivery is claimed with a conditional put before anything is sent, so a change that
S3, SNS or SQS delivers twice is sent once. A failed send releases its claim so the retry
can try again; a crash between sending and marking leaves the claim "sending", which is
never resent (at most once, never twice).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from botocore.exceptions import ClientError

from policywatch import aws, clock


class Deliveries:
    def __init__(self, table_name: str, ttl_days: int = 400) -> None:
        self.table = aws.resource("dynamodb").Table(table_name)
        self.ttl_seconds = ttl_days * 86400

    @staticmethod
    def recipient(subscriber_id: str, channel: str) -> str:
        return f"{subscriber_id}#{channel}"

    def claim(self, change_id: str, subscriber_id: str, channel: str) -> bool:
        """True when this call owns the delivery; False when it was claimed before."""
        try:
            self.table.put_item(
                Item={
                    "change_id": change_id,
                    "recipient": self.recipient(subscriber_id, channel),
                    "subscriber_id": subscriber_id,
                    "channel": channel,
                    "status": "sending",
                    "claimed_at": clock.iso(),
                    "expires_at": int(time.time()) + self.ttl_seconds,
                },
                ConditionExpression="attribute_not_exists(change_id)",
            )
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise

    def mark_sent(self, change_id: str, subscriber_id: str, channel: str, message_id: str) -> None:
        self.table.update_item(
            Key={"change_id": change_id, "recipient": self.recipient(subscriber_id, channel)},
            UpdateExpression="SET #s = :sent, sent_at = :now, message_id = :mid",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":sent": "sent",
                ":now": clock.iso(),
                ":mid": message_id,
            },
        )

    def release(self, change_id: str, subscriber_id: str, channel: str) -> None:
        self.table.delete_item(Key={"change_id": change_id, "recipient": self.recipient(subscriber_id, channel)})

    def send_once(self, change_id: str, subscriber_id: str, channel: str, send: Callable[[], str]) -> bool:
        """Send unless already delivered; False for a duplicate. A failed send is released and re-raised."""
        if not self.claim(change_id, subscriber_id, channel):
            return False
        try:
            message_id = send()
        except Exception:
            self.release(change_id, subscriber_id, channel)
            raise
        self.mark_sent(change_id, subscriber_id, channel, message_id)
        return True
