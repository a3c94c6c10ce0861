"""A subscriber: who they are, what they watch, how they are reached, and what their tier allows.

Everything a subscriber gives us is validated here, with an error that names what was wrong;
tier limits (platforms, channels, webhook endpoints) are enforced twice: when a subscription is
written (``validate``) and at fan-out (``Entitlement``), so a subscriber downgraded or edited
behind our back receives only what the tier allows.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any

from policywatch.core import clock, outbound
from policywatch.core.errors import InputError
from policywatch.subscribers.secrets import new_secret, validate_secret
from policywatch.subscribers.tiers import Tier, TierError, tier

STATUSES = ("pending", "active", "unsubscribed")
SEVERITIES = ("low", "medium", "high")
DEFAULT_SMS_MIN_SEVERITY = "medium"  # SMS interrupts people: only changes that matter, unless asked otherwise

# The practical subset of RFC 5321/5322 that mail providers accept; no IP literals or quoted parts.
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


class SubscriberError(InputError):
    """Invalid subscriber data, or an unknown subscriber."""


@dataclass(frozen=True)
class Endpoint:
    """A webhook endpoint: where change events are POSTed, and the secrets they are signed with.

    After a rotation (``rotated``) the previous secret signs too until ``previous_until``, so
    the receiver can switch to the new one without losing a delivery.
    """

    endpoint_id: str
    url: str
    secret: str = field(repr=False)
    previous_secret: str = field(default="", repr=False)
    previous_until: str = ""  # ISO 8601 UTC (clock.iso); "" when there is no previous secret

    @property
    def channel(self) -> str:
        return f"webhook:{self.endpoint_id}"

    def signing_secrets(self, now: datetime | None = None) -> tuple[str, ...]:
        """The secrets a delivery at ``now`` is signed with: the current one, and the previous one while its overlap lasts."""
        if self.previous_secret and _now_before(self.previous_until, now):
            return (self.secret, self.previous_secret)
        return (self.secret,)

    def to_item(self) -> dict[str, str]:
        """The stored attributes (no empty previous secret: items written before rotation existed look the same)."""
        return {k: v for k, v in asdict(self).items() if v}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Endpoint:
        known = {f.name for f in fields(cls)}
        return cls(**{k: str(v) for k, v in item.items() if k in known})


def _now_before(moment: str, now: datetime | None = None) -> bool:
    """True when ``now`` is before the ISO 8601 ``moment``; False for an empty or unreadable one."""
    try:
        until = datetime.fromisoformat(moment)
    except ValueError:
        return False
    if until.tzinfo is None:
        return False
    return (now or clock.now()) < until


@dataclass
class Subscriber:
    subscriber_id: str
    email: str
    tier: str
    platforms: list[str]
    phone: str | None = None
    # SMS goes only to a number its owner proved they hold (a code sent to it, docs/accounts.md).
    # An operator's ``subscribers add --phone`` vouches for the number; stored subscribers from
    # before verification existed were all added that way, so an item without the field is verified.
    phone_verified: bool = True
    webhooks: list[Endpoint] = field(default_factory=list)
    provisions: list[str] = field(default_factory=list)  # provision filter (Professional); empty: every change
    digest: bool = False  # the weekly digest on top of same-day alerts (always on for weekly tiers)
    sms_min_severity: str = DEFAULT_SMS_MIN_SEVERITY
    status: str = "pending"
    unsubscribe_token: str = ""
    created_at: str = ""
    updated_at: str = ""
    version: int = 0
    # Unix seconds when a sign-up nobody confirmed is deleted (DynamoDB TTL on its items); 0: never.
    expires_at: int = 0

    def to_item(self) -> dict[str, Any]:
        """The attributes stored for this subscriber (DynamoDB has no None)."""
        item = asdict(self)
        item["webhooks"] = [e.to_item() for e in self.webhooks]
        return {k: v for k, v in item.items() if v is not None and v != [] and not (k == "expires_at" and not v)}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Subscriber:
        return cls(
            subscriber_id=item["subscriber_id"],
            email=item["email"],
            tier=item["tier"],
            platforms=list(item.get("platforms", [])),
            phone=item.get("phone"),
            phone_verified=bool(item.get("phone_verified", True)),
            webhooks=[Endpoint.from_item(e) for e in item.get("webhooks", [])],
            provisions=list(item.get("provisions", [])),
            digest=bool(item.get("digest", False)),
            sms_min_severity=item.get("sms_min_severity", DEFAULT_SMS_MIN_SEVERITY),
            status=item.get("status", "pending"),
            unsubscribe_token=item.get("unsubscribe_token", ""),
            created_at=item.get("created_at", ""),
            updated_at=item.get("updated_at", ""),
            version=int(item.get("version", 0)),
            expires_at=int(item.get("expires_at", 0)),
        )

    def public(self) -> dict[str, Any]:
        """What may be shown or logged by id: no token, no webhook secret."""
        shown = self.to_item()
        shown.pop("unsubscribe_token", None)
        shown["webhooks"] = [{"endpoint_id": e.endpoint_id, "url": e.url} for e in self.webhooks]
        return shown


def validate_email(email: str) -> str:
    email = email.strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise SubscriberError(f"invalid email address {email!r}")
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def validate_phone(phone: str) -> str:
    """The number in E.164 (``+14155550123``); it must be written internationally and be a valid number."""
    import phonenumbers  # here: only adding or changing a phone number checks one

    try:
        number = phonenumbers.parse(phone.strip(), None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise SubscriberError(f"invalid phone number {phone!r}: use international E.164 form, e.g. +14155550123")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def new_endpoint(
    url: str,
    secret: str | None = None,
    allowlist: frozenset[str] = frozenset(),
    *,
    getaddrinfo: Callable[..., list[tuple[Any, ...]]] | None = None,
) -> Endpoint:
    """A webhook endpoint with a checked URL and a ``whsec_`` secret (generated when not given).

    The URL's host is resolved now and every address checked (``outbound.check_registration``),
    so a name answering a private or loopback address is refused while its owner can read why;
    each delivery checks again. ``getaddrinfo`` (tests) defaults to ``socket.getaddrinfo``.
    """
    try:
        url = outbound.check_registration(url, allowlist, getaddrinfo)
    except outbound.AddressError as exc:
        raise SubscriberError(str(exc)) from None
    try:
        secret = validate_secret(secret) if secret else new_secret()
    except ValueError as exc:
        raise SubscriberError(str(exc)) from None
    return Endpoint(endpoint_id="wh_" + secrets.token_hex(6), url=url, secret=secret)


def rotated(endpoint: Endpoint, now: datetime | None = None, overlap: timedelta = timedelta(hours=24)) -> Endpoint:
    """``endpoint`` with a new secret; the current one still signs (as previous) until ``now + overlap``.

    Rotating again within an overlap drops the oldest secret at once: two secrets sign at most.
    """
    if overlap <= timedelta(0):
        return replace(endpoint, secret=new_secret(), previous_secret="", previous_until="")
    until = clock.iso((now or clock.now()) + overlap)
    return replace(endpoint, secret=new_secret(), previous_secret=endpoint.secret, previous_until=until)


def new_subscriber(
    *,
    email: str,
    tier_id: str,
    platforms: Iterable[str],
    known_platforms: Iterable[str],
    known_provisions: Iterable[str] = (),
    phone: str | None = None,
    webhooks: Iterable[Endpoint] = (),
    provisions: Iterable[str] = (),
    digest: bool = False,
    sms_min_severity: str = DEFAULT_SMS_MIN_SEVERITY,
) -> Subscriber:
    """A validated subscriber awaiting confirmation; raises SubscriberError or TierError naming what is wrong."""
    now = clock.iso()
    subscriber = Subscriber(
        subscriber_id="sub_" + secrets.token_hex(8),
        email=validate_email(email),
        tier=tier_id,
        platforms=_unique(platforms),
        phone=validate_phone(phone) if phone else None,
        webhooks=list(webhooks),
        provisions=_unique(provisions),
        digest=digest,
        sms_min_severity=sms_min_severity,
        unsubscribe_token=secrets.token_urlsafe(24),
        created_at=now,
        updated_at=now,
    )
    validate(subscriber, known_platforms, known_provisions)
    return subscriber


def updated(
    subscriber: Subscriber,
    known_platforms: Iterable[str],
    known_provisions: Iterable[str],
    *,
    lenient: bool = False,
    **changes: Any,
):
    """A copy of ``subscriber`` with ``changes`` applied and everything validated again.

    ``lenient``: what the change does not touch is held to the tier only as fan-out holds it. A
    downgrade keeps what lies beyond the new tier (more platforms, a phone, webhooks, filters)
    and fan-out ignores it; the subscriber's own edits on the manage page must not fail because
    of what they did not touch, and an edit of a field must still bring that field within the tier.
    """
    if "email" in changes:
        changes["email"] = validate_email(changes["email"])
    if changes.get("phone"):
        changes["phone"] = validate_phone(changes["phone"])
    for name in ("platforms", "provisions"):
        if name in changes:
            changes[name] = _unique(changes[name])
    result = replace(subscriber, **changes, updated_at=clock.iso())
    if lenient:
        widened = [name for name in changes if not _narrowed(name, subscriber, result)]
        validate(_as_fan_out_sees(result, widened), known_platforms, known_provisions)
    else:
        validate(result, known_platforms, known_provisions)
    return result


def _narrowed(name: str, before: Subscriber, after: Subscriber) -> bool:
    """True when ``name`` only lost something (a removal may leave the rest beyond the tier, as it was)."""
    if name in ("platforms", "provisions"):
        return set(getattr(after, name)) <= set(getattr(before, name))
    if name == "webhooks":
        return {e.endpoint_id for e in after.webhooks} <= {e.endpoint_id for e in before.webhooks}
    if name == "phone":
        return after.phone is None
    if name == "digest":
        return not after.digest
    return name not in ("tier", "email")


def _as_fan_out_sees(subscriber: Subscriber, changed: Iterable[str]) -> Subscriber:
    """``subscriber`` with what ``changed`` does not name cut to the tier, as ``entitlement`` cuts it."""
    plan = tier(subscriber.tier)
    cut: dict[str, Any] = {}
    if "platforms" not in changed and plan.max_platforms is not None:
        cut["platforms"] = subscriber.platforms[: plan.max_platforms]
    if "phone" not in changed and "sms" not in plan.channels:
        cut["phone"] = None
    if "webhooks" not in changed:
        cut["webhooks"] = subscriber.webhooks[: plan.max_webhooks] if "webhook" in plan.channels else []
    if "provisions" not in changed and not plan.provision_filters:
        cut["provisions"] = []
    if "digest" not in changed and plan.same_day and not plan.digest_opt_in:
        cut["digest"] = False
    return replace(subscriber, **cut)


def validate(subscriber: Subscriber, known_platforms: Iterable[str], known_provisions: Iterable[str] = ()) -> None:
    """Every rule a stored subscription must meet, tier limits included."""
    plan = tier(subscriber.tier)
    known = set(known_platforms)
    if not subscriber.platforms:
        raise SubscriberError("a subscriber watches at least one platform")
    unknown = [p for p in subscriber.platforms if p not in known]
    if unknown:
        raise SubscriberError(f"unknown platform {unknown[0]!r} (known: {', '.join(sorted(known))})")
    if plan.max_platforms is not None and len(subscriber.platforms) > plan.max_platforms:
        raise TierError(
            f"the {plan.label} tier watches {_count(plan.max_platforms, 'platform')}; "
            f"{len(subscriber.platforms)} were given"
        )
    if subscriber.phone and "sms" not in plan.channels:
        raise TierError(f"the {plan.label} tier has no SMS alerts; upgrade or leave out the phone number")
    if subscriber.webhooks and "webhook" not in plan.channels:
        raise TierError(f"the {plan.label} tier has no webhooks; upgrade or leave out the webhook URL")
    if len(subscriber.webhooks) > plan.max_webhooks:
        raise TierError(
            f"the {plan.label} tier has {_count(plan.max_webhooks, 'webhook endpoint')}; "
            f"{len(subscriber.webhooks)} were given"
        )
    if subscriber.provisions:
        if not plan.provision_filters:
            raise TierError(f"the {plan.label} tier has no provision filters; upgrade or leave out --provision")
        categories = set(known_provisions)
        wrong = [p for p in subscriber.provisions if p not in categories]
        if wrong:
            raise SubscriberError(f"unknown provision {wrong[0]!r} (known: {', '.join(sorted(categories))})")
    if subscriber.digest and plan.same_day and not plan.digest_opt_in:
        raise TierError(f"the {plan.label} tier has no weekly digest")
    if subscriber.sms_min_severity not in SEVERITIES:
        raise SubscriberError(
            f"SMS severity must be one of {', '.join(SEVERITIES)}, not {subscriber.sms_min_severity!r}"
        )
    if subscriber.status not in STATUSES:
        raise SubscriberError(f"status must be one of {', '.join(STATUSES)}, not {subscriber.status!r}")


@dataclass(frozen=True)
class Entitlement:
    """What a subscriber receives of one change, judged at fan-out against the tier as it is now."""

    plan: Tier
    same_day: bool  # False: the change waits for the weekly digest
    channels: tuple[str, ...]  # "email", "sms", "webhook:<endpoint id>"


def entitlement(subscriber: Subscriber, change: dict[str, Any]) -> Entitlement | None:
    """None when the subscriber gets nothing of ``change``; else its channels within the tier."""
    plan = _covering_plan(subscriber, change["platform"], change.get("categories", []))
    if plan is None:
        return None
    if not plan.same_day:
        return Entitlement(plan, same_day=False, channels=())
    channels = ["email"]
    if (
        "sms" in plan.channels
        and subscriber.phone
        and subscriber.phone_verified
        and _at_least(change.get("severity"), subscriber.sms_min_severity)
    ):
        channels.append("sms")
    if "webhook" in plan.channels:
        # Endpoints beyond the tier's limit (stored behind our back) get nothing: each one is a receiver
        # that may take the whole attempt's time, and the fan-out's time is shared by every subscriber.
        channels.extend(e.channel for e in subscriber.webhooks[: plan.max_webhooks])
    return Entitlement(plan, same_day=True, channels=tuple(channels))


def digest_plan(subscriber: Subscriber, change: dict[str, Any]) -> Tier | None:
    """The tier a weekly digest entry for ``change`` is rendered for; None if the subscriber gets no digest of it."""
    plan = _covering_plan(subscriber, change["platform"], change.get("categories", []))
    if plan is None:
        return None
    weekly = not plan.same_day  # the digest is the weekly tiers' only cadence
    return plan if weekly or (subscriber.digest and plan.digest_opt_in) else None


def _covering_plan(subscriber: Subscriber, platform: str, categories: Iterable[str]) -> Tier | None:
    """The subscriber's tier if it covers a change to ``platform`` in ``categories`` now; else None."""
    if subscriber.status != "active":
        return None
    try:
        plan = tier(subscriber.tier)
    except TierError:
        return None
    # A downgraded subscriber keeps the platforms the tier allows, in the order they chose them.
    allowed = subscriber.platforms if plan.max_platforms is None else subscriber.platforms[: plan.max_platforms]
    if platform not in allowed:
        return None
    if plan.provision_filters and subscriber.provisions and not set(subscriber.provisions) & set(categories):
        return None
    return plan


def _at_least(severity: str | None, minimum: str) -> bool:
    return severity in SEVERITIES and SEVERITIES.index(severity) >= SEVERITIES.index(minimum)


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"up to {n} {noun}s"
