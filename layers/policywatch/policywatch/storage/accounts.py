"""The accounts table: self-service sign-up's short-lived state (see docs/accounts.md).

One item per key (``pk``), each with an ``expires_at`` (Unix seconds) that DynamoDB's TTL
removes; TTL deletes within a day or two of that moment, not on it, so every read checks
the expiry itself.

- ``link#<sha256 of the token>``: a single-use link (confirm a sign-up, open the manage page).
  Only the token's hash is stored: the table never holds what would open a link. Redeeming it
  deletes it in the same call, conditionally, so two clicks at once open it once.
- ``session#<sha256 of the token>``: a manage-page session, read on each request until it expires.
- ``code#<subscriber>``: the one pending phone code of a subscriber (its hash, the number it
  was sent to, the attempts left); a new code replaces it, a right answer or the last wrong one
  deletes it.
- ``rate#<rule>#<subject>#<window>``: a rate-limit counter, one per fixed window; an increment
  past the limit is refused by a condition, so concurrent requests cannot overshoot it.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from policywatch.storage import clients as aws
from policywatch.storage.errors import adapter


def digest(secret: str) -> str:
    """What is stored in place of a token, a code or an address: its SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Redeemed:
    """A single-use link's record, taken out of the table by ``redeem``."""

    purpose: str
    subject: str  # the subscriber (or the address hash of a sign-up)
    data: dict[str, Any]


@dataclass(frozen=True)
class CodeCheck:
    """What checking a phone code found: ``ok`` with the number, or why not and the attempts left."""

    ok: bool
    phone: str = ""
    attempts_left: int = 0
    expired: bool = False


@adapter
class Accounts:
    """Data access for the accounts table (low-level client)."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _db(self) -> Any:
        return aws.client("dynamodb")

    # ------------------------------------------------------------ single-use links and sessions

    def put_link(self, token: str, purpose: str, subject: str, ttl_seconds: int, data: dict[str, Any] | None = None):
        """Record a link token (by its hash) for ``purpose`` and ``subject`` until ``ttl_seconds`` from now."""
        item = {
            "pk": "link#" + digest(token),
            "purpose": purpose,
            "subject": subject,
            "data": data or {},
            "expires_at": int(time.time()) + ttl_seconds,
        }
        self._db.put_item(TableName=self.table_name, Item=aws.to_dynamodb(item))

    def redeem(self, token: str, purpose: str) -> Redeemed | None:
        """The link's record, deleted as it is read; None when unknown, used, expired or for another purpose."""
        try:
            response = self._db.delete_item(
                TableName=self.table_name,
                Key={"pk": {"S": "link#" + digest(token)}},
                ConditionExpression="purpose = :purpose AND expires_at > :now",
                ExpressionAttributeValues=aws.to_dynamodb({":purpose": purpose, ":now": int(time.time())}),
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        item = aws.from_dynamodb(response.get("Attributes", {}))
        return Redeemed(item["purpose"], item["subject"], dict(item.get("data") or {}))

    def put_session(self, token: str, subscriber_id: str, ttl_seconds: int) -> None:
        item = {
            "pk": "session#" + digest(token),
            "subject": subscriber_id,
            "expires_at": int(time.time()) + ttl_seconds,
        }
        self._db.put_item(TableName=self.table_name, Item=aws.to_dynamodb(item))

    def session(self, token: str) -> str | None:
        """The subscriber a session token is for, while it lasts."""
        response = self._db.get_item(
            TableName=self.table_name, Key={"pk": {"S": "session#" + digest(token)}}, ConsistentRead=True
        )
        item = aws.from_dynamodb(response.get("Item", {}))
        if not item or int(item.get("expires_at", 0)) <= time.time():
            return None
        return str(item["subject"])

    def end_session(self, token: str) -> None:
        self._db.delete_item(TableName=self.table_name, Key={"pk": {"S": "session#" + digest(token)}})

    # ------------------------------------------------------------ phone codes

    def put_code(self, subscriber_id: str, code: str, phone: str, attempts: int, ttl_seconds: int) -> None:
        """The subscriber's pending code (only its hash, salted with the subscriber), replacing any earlier one."""
        item = {
            "pk": "code#" + subscriber_id,
            "code": digest(f"{subscriber_id}|{code}"),
            "phone": phone,
            "attempts_left": attempts,
            "expires_at": int(time.time()) + ttl_seconds,
        }
        self._db.put_item(TableName=self.table_name, Item=aws.to_dynamodb(item))

    def check_code(self, subscriber_id: str, code: str) -> CodeCheck:
        """Spend one attempt on ``code``: right, the record is deleted; wrong, one fewer attempt is left.

        The attempt is taken by a conditional decrement before the code is compared, so parallel
        guesses cannot spend more attempts than there are.
        """
        key = {"pk": {"S": "code#" + subscriber_id}}
        try:
            response = self._db.update_item(
                TableName=self.table_name,
                Key=key,
                UpdateExpression="SET attempts_left = attempts_left - :one",
                ConditionExpression="attempts_left > :zero AND expires_at > :now",
                ExpressionAttributeValues=aws.to_dynamodb({":one": 1, ":zero": 0, ":now": int(time.time())}),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return CodeCheck(ok=False, expired=True)
            raise
        item = aws.from_dynamodb(response["Attributes"])
        left = int(item["attempts_left"])
        if item["code"] == digest(f"{subscriber_id}|{code}"):
            self._db.delete_item(TableName=self.table_name, Key=key)
            return CodeCheck(ok=True, phone=str(item["phone"]))
        if left <= 0:
            self._db.delete_item(TableName=self.table_name, Key=key)
        return CodeCheck(ok=False, attempts_left=left, expired=left <= 0)

    def drop_code(self, subscriber_id: str) -> None:
        self._db.delete_item(TableName=self.table_name, Key={"pk": {"S": "code#" + subscriber_id}})

    # ------------------------------------------------------------ rate limits

    def hit(self, rule: str, subject: str, limit: int, window_seconds: int) -> int | None:
        """Count one request of ``subject`` under ``rule``; the seconds until the window ends if it is over the limit.

        Fixed windows: the count of the current window is incremented only while it is below
        ``limit`` (a condition, so concurrent requests cannot overshoot); the item expires with
        its window. ``subject`` should already be a hash where it is personal (an address).
        """
        now = int(time.time())
        window = now - now % window_seconds
        try:
            self._db.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": f"rate#{rule}#{subject}#{window}"}},
                UpdateExpression="ADD hits :one SET expires_at = :expires",
                ConditionExpression="attribute_not_exists(hits) OR hits < :limit",
                ExpressionAttributeValues=aws.to_dynamodb(
                    {":one": 1, ":limit": limit, ":expires": window + window_seconds + 60}
                ),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return window + window_seconds - now
            raise
        return None
