"""What a subscriber stops receiving when their tier changes: one sentence a person understands per loss.

Pure: a subscriber and a tier id in, sentences out (none on an upgrade or the same tier). The
operator's ``policywatch subscribers tier`` prints them; a billing page can show them before a
downgrade is confirmed.

A tier change keeps everything stored, even beyond the new tier's limits: the platforms in the
subscriber's order, the phone number, the webhook endpoints and their secrets, the provision
filter. Fan-out already judges every change against the tier as it is now (``model.entitlement``:
the first N platforms in the subscriber's order, no SMS or webhooks the tier lacks, no filter on a
tier without filters), as it does for a subscriber downgraded behind our back. That is what a
person expects of a downgrade, which is often temporary (a trial ending, a payment lapsing): an
upgrade gives back exactly what they had set up, and no webhook secret their receivers are
configured with is destroyed. Trimming would lose it all on the first downgrade. The cost: a
later edit (``subscribers update``) checks every limit again, so it must bring what is kept
within the tier (``beyond_limits`` says what that is).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from policywatch.subscribers.model import Endpoint, Subscriber
from policywatch.subscribers.tiers import Tier, TierError, tier


def what_stops(subscriber: Subscriber, new_tier_id: str) -> list[str]:
    """What ``subscriber`` stops receiving on ``new_tier_id``, one line each; empty on an upgrade or the same tier.

    Raises TierError for an unknown new tier. A subscriber whose stored tier is unknown receives
    nothing now (fan-out skips them), so nothing stops.
    """
    new = tier(new_tier_id)
    try:
        old = tier(subscriber.tier)
    except TierError:
        return []
    lines: list[str] = []
    lost = [p for p in _watched(subscriber, old) if p not in _watched(subscriber, new)]
    if lost:
        kept = ", ".join(_watched(subscriber, new))
        lines.append(
            f"No more alerts about {_names(lost)}: the {new.label} tier watches {_count(new.max_platforms, 'platform')}, "
            f"the first chosen ({kept})."
        )
    if old.same_day and not new.same_day:
        lines.append("Same-day alerts stop: changes arrive only in the weekly digest, on Mondays.")
    if subscriber.phone and subscriber.phone_verified and _sends(old, "sms") and not _sends(new, "sms"):
        lines.append(f"SMS alerts stop: the {new.label} tier sends none (the phone number is kept for an upgrade).")
    gone = [e for e in _endpoints(subscriber, old) if e not in _endpoints(subscriber, new)]
    if gone:
        limit = "has no webhooks" if not _sends(new, "webhook") else f"has {_count(new.max_webhooks, 'endpoint')}"
        lines.append(
            f"Webhook deliveries stop to {_names([_endpoint(e) for e in gone])}: the {new.label} tier {limit} "
            "(the endpoints and their secrets are kept for an upgrade)."
        )
    if subscriber.provisions and old.provision_filters and not new.provision_filters:
        lines.append(
            f"The provision filter stops ({', '.join(subscriber.provisions)}): every change to the watched "
            "platforms reaches you, not only those."
        )
    if old.regulatory_mapping and not new.regulatory_mapping:
        lines.append(
            "Alerts no longer carry the regulatory mapping or a link to the Professional view, "
            "and the Professional links already sent stop opening it."
        )
    if old.evidence_in_alerts and not new.evidence_in_alerts:
        lines.append(
            "Alerts no longer carry the evidence (both versions' SHA-256 and archived copies); "
            "each change page still shows it."
        )
    if subscriber.digest and old.same_day and old.digest_opt_in and new.same_day and not new.digest_opt_in:
        lines.append("The weekly digest on top of same-day alerts stops.")
    return lines


def beyond_limits(subscriber: Subscriber, tier_id: str) -> list[str]:
    """What ``subscriber`` keeps stored beyond ``tier_id``'s limits (unused by fan-out), e.g. ``3 platforms (1 allowed)``."""
    plan = tier(tier_id)
    kept: list[str] = []
    if plan.max_platforms is not None and len(subscriber.platforms) > plan.max_platforms:
        kept.append(f"{len(subscriber.platforms)} platforms ({plan.max_platforms} allowed)")
    if subscriber.phone and "sms" not in plan.channels:
        kept.append("a phone number")
    if len(subscriber.webhooks) > plan.max_webhooks:
        allowed = f" ({plan.max_webhooks} allowed)" if plan.max_webhooks else ""
        kept.append(f"{_count_of(len(subscriber.webhooks), 'webhook endpoint')}{allowed}")
    if subscriber.provisions and not plan.provision_filters:
        kept.append("a provision filter")
    return kept


def _watched(subscriber: Subscriber, plan: Tier) -> list[str]:
    """The platforms the tier covers: the first ``max_platforms`` in the subscriber's order (as fan-out)."""
    return subscriber.platforms if plan.max_platforms is None else subscriber.platforms[: plan.max_platforms]


def _sends(plan: Tier, channel: str) -> bool:
    """Whether the tier sends on ``channel`` at all: a weekly tier sends only the digest, by email."""
    return plan.same_day and channel in plan.channels


def _endpoints(subscriber: Subscriber, plan: Tier) -> list[Endpoint]:
    return subscriber.webhooks[: plan.max_webhooks] if _sends(plan, "webhook") else []


def _endpoint(endpoint: Endpoint) -> str:
    return f"{endpoint.endpoint_id} ({urlsplit(endpoint.url).hostname or endpoint.url})"


def _names(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _count(limit: int | None, noun: str) -> str:
    if limit is None:
        return f"every {noun}"
    return f"{limit} {noun}" if limit == 1 else f"up to {limit} {noun}s"


def _count_of(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
