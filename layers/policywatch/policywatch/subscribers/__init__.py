"""Subscribers: the model and its rules (``model``), and the DynamoDB table they live in (``store``)."""

from policywatch.storage.subscribers import ConcurrentUpdateError, Subscribers
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
    "ConcurrentUpdateError",
    "Endpoint",
    "Entitlement",
    "Subscriber",
    "SubscriberError",
    "Subscribers",
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
