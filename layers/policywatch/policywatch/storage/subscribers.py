"""The subscribers table: one profile item per subscriber and one watch item per watched platform.

Watch items (``item = "watch#<platform>"``) carry a full copy of the subscriber, so fanning a
change out reads exactly one item per subscriber of that platform through the sparse
``by-platform`` index, and never scans. Every write touches the profile and its watch items in
one transaction, guarded by the profile's version: all or nothing, and no lost update.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import hmac
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError

from policywatch.core import clock
from policywatch.storage import clients as aws
from policywatch.storage.errors import adapter
from policywatch.subscribers.model import Subscriber, SubscriberError

PROFILE = "profile"
WATCH_PREFIX = "watch#"
# An address subscribes once: an item keyed by the address's hash names its subscriber, written in
# the same transaction as the profile, on condition that it does not exist yet.
ADDRESS_PREFIX = "address#"
OWNER = "owner"
PLATFORM_INDEX = "by-platform"
MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit: a profile and 99 platforms

# What an unsubscribe link can carry: ids are "sub_" and 16 hex digits, tokens 32 URL-safe
# characters (secrets.token_urlsafe(24)); the bounds leave room and keep anything else, of
# any length or alphabet, away from the table.
_LINK_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_LINK_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,128}")


class ConcurrentUpdateError(SubscriberError):
    """The subscriber changed since it was read; read it again and retry."""


class AddressTakenError(SubscriberError):
    """Another subscriber has this address already (an address subscribes once)."""


def address_key(email: str) -> str:
    """The key of an address's owner item: the SHA-256 of the address in lower case (no address in a key)."""
    return ADDRESS_PREFIX + hashlib.sha256(email.strip().lower().encode()).hexdigest()


@adapter
class Subscribers:
    """Data access for the subscribers table (low-level client: safe to share across threads)."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name
        self.items_read = 0  # items the fan-out queries have read, for the benchmark and metrics

    @property
    def _db(self) -> Any:
        return aws.client("dynamodb")

    def add(self, subscriber: Subscriber) -> Subscriber:
        """Store a new subscriber and its watch items; returns it as stored (version 1)."""
        stored = replace(subscriber, version=1)
        puts = [self._put(item, "attribute_not_exists(subscriber_id)") for item in _items(stored)]
        puts.append(self._put(_owner(stored), "attribute_not_exists(subscriber_id)"))
        try:
            self._transact(puts, stored.subscriber_id)
        except AddressTakenError:
            raise AddressTakenError(f"{subscriber.email} is already subscribed") from None
        return stored

    def by_email(self, email: str) -> Subscriber | None:
        """The subscriber of an address (already validated), or None."""
        owner = self._owner_of(email)
        if owner is None:
            return None
        with contextlib.suppress(SubscriberError):  # the owner removed between the two reads
            return self.get(owner)
        return None

    def save(self, subscriber: Subscriber, previous: Subscriber) -> Subscriber:
        """Replace ``previous`` by ``subscriber`` (validated by the caller); the stored version must not have moved.

        A new address moves the address's owner item in the same transaction (AddressTakenError if
        another subscriber has the new one); a confirmed sign-up's owner item loses its expiry with it.
        """
        saved = replace(subscriber, version=previous.version + 1)
        items = _items(saved)
        profile, watches = items[0], items[1:]
        writes = [
            self._put(
                profile,
                "#v = :expected",
                names={"#v": "version"},
                values={":expected": aws.to_dynamodb({"v": previous.version})["v"]},
            )
        ]
        writes += [self._put(item) for item in watches]
        dropped = set(previous.platforms) - set(saved.platforms)
        writes += [self._delete(saved.subscriber_id, WATCH_PREFIX + platform) for platform in sorted(dropped)]
        moved = address_key(previous.email) != address_key(saved.email)
        if moved or previous.expires_at != saved.expires_at:
            writes.append(
                self._put(
                    _owner(saved),
                    "attribute_not_exists(subscriber_id) OR #o = :me",
                    names={"#o": "owner"},
                    values={":me": {"S": saved.subscriber_id}},
                )
            )
        if moved and self._owner_of(previous.email) == saved.subscriber_id:
            writes.append(self._delete_owner(previous.email, saved.subscriber_id))
        self._transact(writes, saved.subscriber_id)
        return saved

    def remove(self, subscriber: Subscriber) -> None:
        """Delete the subscriber (as just read: ConcurrentUpdateError if it changed since), its watch
        items and its address's owner item, in one transaction. Their delivery records stay until they
        expire (``Deliveries.forget`` takes what they say about where they went)."""
        profile = self._delete(subscriber.subscriber_id, PROFILE)
        profile["Delete"] |= {
            "ConditionExpression": "#v = :expected",
            "ExpressionAttributeNames": {"#v": "version"},
            "ExpressionAttributeValues": {":expected": aws.to_dynamodb({"v": subscriber.version})["v"]},
        }
        writes = [profile] + [self._delete(subscriber.subscriber_id, WATCH_PREFIX + p) for p in subscriber.platforms]
        # The address is free again, unless another subscriber holds it (two from before the owner items).
        if self._owner_of(subscriber.email) == subscriber.subscriber_id:
            writes.append(self._delete_owner(subscriber.email, subscriber.subscriber_id))
        self._transact(writes, subscriber.subscriber_id)

    def claim_addresses(self) -> tuple[int, list[tuple[str, str]]]:
        """Give every subscriber without one its address's owner item (subscribers stored before owner
        items existed); how many were written, and each (subscriber, owner) whose address another holds."""
        written, duplicates = 0, []
        for subscriber in self.list():
            try:
                self._db.put_item(
                    TableName=self.table_name,
                    Item=aws.to_dynamodb(_owner(subscriber)),
                    ConditionExpression="attribute_not_exists(subscriber_id)",
                )
                written += 1
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                owner = self._owner_of(subscriber.email)
                if owner != subscriber.subscriber_id:
                    duplicates.append((subscriber.subscriber_id, owner or "?"))
        return written, duplicates

    def _owner_of(self, email: str) -> str | None:
        response = self._db.get_item(
            TableName=self.table_name,
            Key=aws.to_dynamodb({"subscriber_id": address_key(email), "item": OWNER}),
            ConsistentRead=True,
        )
        return aws.from_dynamodb(response["Item"])["owner"] if "Item" in response else None

    def _delete_owner(self, email: str, subscriber_id: str) -> dict[str, Any]:
        delete = self._delete(address_key(email), OWNER)
        delete["Delete"] |= {
            "ConditionExpression": "#o = :me",
            "ExpressionAttributeNames": {"#o": "owner"},
            "ExpressionAttributeValues": {":me": {"S": subscriber_id}},
        }
        return delete

    def get(self, subscriber_id: str) -> Subscriber:
        response = self._db.get_item(
            TableName=self.table_name,
            Key=aws.to_dynamodb({"subscriber_id": subscriber_id, "item": PROFILE}),
            ConsistentRead=True,
        )
        if "Item" not in response:
            raise SubscriberError(f"no subscriber {subscriber_id!r}")
        return Subscriber.from_item(aws.from_dynamodb(response["Item"]))

    def by_token(self, subscriber_id: str, token: str) -> Subscriber:
        """The subscriber a link was made for; the same error for a wrong id and a wrong token.

        A malformed id or token (too long, outside the URL-safe alphabet) is refused unread.
        """
        subscriber = None
        if _LINK_ID.fullmatch(subscriber_id) and _LINK_TOKEN.fullmatch(token):
            with contextlib.suppress(SubscriberError):  # the same answer for an unknown id
                subscriber = self.get(subscriber_id)
        # Bytes: compare_digest raises on str with non-ASCII characters (kept out above; this keeps it total).
        if subscriber is None or not hmac.compare_digest(subscriber.unsubscribe_token.encode(), token.encode()):
            raise SubscriberError("this link is not valid (it may be mistyped or the subscription removed)")
        return subscriber

    def set_status(self, previous: Subscriber, status: str) -> Subscriber:
        """``previous`` (as just read) with a new status; refused if it changed since it was read."""
        if previous.status == status:
            return previous
        # An active subscriber never expires (a sign-up nobody confirmed does).
        expires_at = 0 if status == "active" else previous.expires_at
        return self.save(replace(previous, status=status, expires_at=expires_at, updated_at=clock.iso()), previous)

    def list(self) -> list[Subscriber]:
        """Every subscriber (operator use; fan-out never scans)."""
        pages = self._db.get_paginator("scan").paginate(
            TableName=self.table_name,
            FilterExpression="#item = :profile",
            ExpressionAttributeNames={"#item": "item"},
            ExpressionAttributeValues={":profile": {"S": PROFILE}},
        )
        found = [Subscriber.from_item(aws.from_dynamodb(i)) for page in pages for i in page.get("Items", [])]
        return sorted(found, key=lambda s: (s.created_at, s.subscriber_id))

    def watchers(self, platform: str) -> Iterator[Subscriber]:
        """Every subscriber watching ``platform``, page by page from the by-platform index."""
        pages = self._db.get_paginator("query").paginate(
            TableName=self.table_name,
            IndexName=PLATFORM_INDEX,
            KeyConditionExpression="platform = :platform",
            ExpressionAttributeValues={":platform": {"S": platform}},
        )
        for page in pages:
            self.items_read += page.get("ScannedCount", len(page.get("Items", [])))
            for item in page.get("Items", []):
                yield Subscriber.from_item(aws.from_dynamodb(item))

    def watchers_page(
        self, platform: str, limit: int, cursor: dict[str, Any] | None = None
    ) -> tuple[builtins.list[Subscriber], dict[str, Any] | None]:
        """One page of ``platform``'s subscribers (at most ``limit``, one Query) and the cursor of the next.

        ``cursor`` is the previous page's (DynamoDB's LastEvaluatedKey, as plain JSON); None when
        this page is the last.
        """
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": PLATFORM_INDEX,
            "KeyConditionExpression": "platform = :platform",
            "ExpressionAttributeValues": {":platform": {"S": platform}},
            "Limit": limit,
        }
        if cursor:
            request["ExclusiveStartKey"] = aws.to_dynamodb(cursor)
        page = self._db.query(**request)
        self.items_read += page.get("ScannedCount", len(page.get("Items", [])))
        found = [Subscriber.from_item(aws.from_dynamodb(item)) for item in page.get("Items", [])]
        after = page.get("LastEvaluatedKey")
        return found, (aws.from_dynamodb(after) if after else None)

    # ------------------------------------------------------------------ writes

    def _put(self, item: dict[str, Any], condition: str | None = None, names=None, values=None) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self.table_name, "Item": aws.to_dynamodb(item)}
        if condition:
            put["ConditionExpression"] = condition
        if names:
            put["ExpressionAttributeNames"] = names
        if values:
            put["ExpressionAttributeValues"] = values
        return {"Put": put}

    def _delete(self, subscriber_id: str, item: str) -> dict[str, Any]:
        key = aws.to_dynamodb({"subscriber_id": subscriber_id, "item": item})
        return {"Delete": {"TableName": self.table_name, "Key": key}}

    # builtins.list: in the class body ``list`` is the method above.
    def _transact(self, writes: builtins.list[dict[str, Any]], subscriber_id: str) -> None:
        if len(writes) > MAX_TRANSACTION_ITEMS:
            raise SubscriberError(f"a subscriber watches at most {MAX_TRANSACTION_ITEMS - 1} platforms")
        try:
            self._db.transact_write_items(TransactItems=writes)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if "ConditionalCheckFailed" in reasons:
                failed = writes[reasons.index("ConditionalCheckFailed")]
                if failed.get("Put", {}).get("Item", {}).get("item") == {"S": OWNER}:
                    raise AddressTakenError("this address is already subscribed") from None
                if writes and "attribute_not_exists" in writes[0].get("Put", {}).get("ConditionExpression", ""):
                    raise SubscriberError(f"subscriber {subscriber_id!r} already exists") from None
                raise ConcurrentUpdateError(
                    f"subscriber {subscriber_id!r} changed while this update was made; try again"
                ) from None
            if "TransactionConflict" in reasons:  # another transaction on the same items was in flight
                raise ConcurrentUpdateError(
                    f"subscriber {subscriber_id!r} was being changed by another update; try again"
                ) from None
            raise


def _owner(subscriber: Subscriber) -> dict[str, Any]:
    owner = {"subscriber_id": address_key(subscriber.email), "item": OWNER, "owner": subscriber.subscriber_id}
    return owner | ({"expires_at": subscriber.expires_at} if subscriber.expires_at else {})


def _items(subscriber: Subscriber) -> list[dict[str, Any]]:
    """The profile, then one watch item per platform (each a full copy, for a one-read fan-out)."""
    data = subscriber.to_item()
    return [{**data, "item": PROFILE}] + [
        {**data, "item": WATCH_PREFIX + platform, "platform": platform} for platform in subscriber.platforms
    ]
