"""Subscribers: who watches what, through which channels, within which tier (the model and its rules).

The table they live in is ``policywatch.storage.subscribers``."""

from policywatch.subscribers.model import (
    Endpoint,
    Entitlement,
    Subscriber,
    SubscriberError,
    digest_plan,
    entitlement,
    new_endpoint,
    new_subscriber,
    updated,
    validate,
    validate_email,
    validate_phone,
)
from policywatch.subscribers.tiers import TierError

__all__ = [
    "Endpoint",
    "Entitlement",
    "Subscriber",
    "SubscriberError",
    "TierError",
    "digest_plan",
    "entitlement",
    "new_endpoint",
    "new_subscriber",
    "updated",
    "validate",
    "validate_email",
    "validate_phone",
]
