"""Subscribers and the platforms they watch, in DynamoDB.

One profile item per subscriber (``item = "profile"``) and one watch item per watched
platform (``item = "watch#<platform>"``). Watch items carry a copy of the contact details
and tier so that fanning out a change reads exactly one item per matching subscriber,
through the ``by-platform`` index.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.conditions import Key

from policywatch import aws, clock
from policywatch.tiers import TierError, tier

PROFILE = "profile"
WATCH_PREFIX = "watch#"
PLATFORM_INDEX = "by-platform"

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")


class SubscriberError(ValueError):
    """Invalid subscriber data, or an unknown subscriber."""


@dataclass
class Subscriber:
    subscriber_id: str
    email: str
    tier: str
    platforms: list[str] = field(default_factory=list)
    phone: str | None = None
    status: str = "active"
    created_at: str = ""

    def contact_item(self) -> dict[str, Any]:
        item = {"subscriber_id": self.subscriber_id, "email": self.email, "tier": self.tier, "status": self.status}
        if self.phone:
            item["phone"] = self.phone
        return item


def validate_email(email: str) -> str:
    email = email.strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise SubscriberError(f"invalid email address {email!r}")
    return email


def validate_phone(phone: str) -> str:
    compact = re.sub(r"[\s().-]", "", phone)
    if not _PHONE.match(compact):
        raise SubscriberError(f"invalid phone number {phone!r}: use international E.164 form, e.g. +14155550123")
    return compact


def new_subscriber(
    email: str, tier_id: str, platforms: list[str], phone: str | None, known_platforms: list[str]
) -> Subscriber:
    """A validated new subscriber; raises SubscriberError or TierError naming what is wrong."""
    plan = tier(tier_id)
    platforms = list(dict.fromkeys(p.strip() for p in platforms if p.strip()))
    if not platforms:
        raise SubscriberError("a subscriber watches at least one platform")
    unknown = [p for p in platforms if p not in known_platforms]
    if unknown:
        raise SubscriberError(f"unknown platform {unknown[0]!r} (known: {', '.join(sorted(known_platforms))})")
    if plan.max_platforms is not None and len(platforms) > plan.max_platforms:
        raise TierError(
            f"the {plan.label} tier watches at most {plan.max_platforms} platform(s); {len(platforms)} given"
        )
    if phone and "sms" not in plan.channels:
        raise TierError(f"the {plan.label} tier has no SMS alerts; upgrade or leave out the phone number")
    return Subscriber(
        subscriber_id="sub_" + secrets.token_hex(8),
        email=validate_email(email),
        tier=tier_id,
        platforms=platforms,
        phone=validate_phone(phone) if phone else None,
        created_at=clock.iso(),
    )


class Subscribers:
    """Data access for the subscribers table."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name
        self.table = aws.resource("dynamodb").Table(table_name)

    def add(self, subscriber: Subscriber) -> None:
        """Write the profile and its watch items in one transaction: all or nothing."""
        contact = subscriber.contact_item()
        profile = {**contact, "item": PROFILE, "platforms": subscriber.platforms, "created_at": subscriber.created_at}
        items = [profile] + [
            {**contact, "item": WATCH_PREFIX + platform, "platform": platform} for platform in subscriber.platforms
        ]
        serializer = aws.dynamodb_serializer()
        aws.client("dynamodb").transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": {k: serializer.serialize(v) for k, v in item.items()},
                        "ConditionExpression": "attribute_not_exists(subscriber_id)",
                    }
                }
                for item in items
            ]
        )

    def get(self, subscriber_id: str) -> Subscriber:
        item = self.table.get_item(Key={"subscriber_id": subscriber_id, "item": PROFILE}).get("Item")
        if not item:
            raise SubscriberError(f"no subscriber {subscriber_id!r}")
        return _from_profile(item)

    def list(self) -> list[Subscriber]:
        items = aws.all_items(
            self.table.scan,
            FilterExpression="#item = :profile",
            ExpressionAttributeNames={"#item": "item"},
            ExpressionAttributeValues={":profile": PROFILE},
        )
        return sorted((_from_profile(i) for i in items), key=lambda s: s.created_at)

    def watchers(self, platform: str) -> list[dict[str, Any]]:
        """Watch items (contact, tier) of every subscriber watching ``platform``."""
        query = {"IndexName": PLATFORM_INDEX, "KeyConditionExpression": Key("platform").eq(platform)}
        return list(aws.all_items(self.table.query, **query))


def _from_profile(item: dict[str, Any]) -> Subscriber:
    return Subscriber(
        subscriber_id=item["subscriber_id"],
        email=item["email"],
        tier=item["tier"],
        platforms=list(item.get("platforms", [])),
        phone=item.get("phone"),
        status=item.get("status", "active"),
        created_at=item.get("created_at", ""),
    )


__all__ = [
    "Subscriber",
    "SubscriberError",
    "Subscribers",
    "TierError",
    "new_subscriber",
    "validate_email",
    "validate_phone",
]
