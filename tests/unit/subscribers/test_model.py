"""The subscriber model: validation, tier limits, and what each subscriber receives (no AWS)."""

import socket
from dataclasses import replace

import pytest

from policywatch.analysis.provisions import taxonomy
from policywatch.subscribers import (
    Subscriber,
    SubscriberError,
    digest_plan,
    entitlement,
    new_endpoint,
    new_subscriber,
    updated,
    validate_email,
    validate_phone,
)
from policywatch.subscribers.tiers import TierError, tier

PLATFORMS = ["anthropic", "openai", "google"] + [f"p{i}" for i in range(12)]
PROVISIONS = list(taxonomy().categories)
HOOK = "https://hooks.example.com/pw"


def public_dns(host, port, *args, **kwargs):
    """A resolver answering one public address for any name (endpoints are resolved when written)."""
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))]


def hook(url=HOOK, **options):
    return new_endpoint(url, getaddrinfo=public_dns, **options)


def subscriber(tier_id="watcher", platforms=("anthropic",), **options) -> Subscriber:
    return new_subscriber(
        email="ana@example.com",
        tier_id=tier_id,
        platforms=platforms,
        known_platforms=PLATFORMS,
        known_provisions=PROVISIONS,
        **options,
    )


def active(**kwargs) -> Subscriber:
    return replace(subscriber(**kwargs), status="active")


def change(platform="anthropic", severity="high", categories=("model-training",)) -> dict:
    return {"platform": platform, "severity": severity, "categories": list(categories)}


# ---------------------------------------------------------------- email and phone


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("a@b.co", "a@b.co"),
        ("first.last+tag@example.org", "first.last+tag@example.org"),
        (" Ana@Example.COM ", "Ana@example.com"),
    ],
)
def test_valid_emails_keep_the_local_part_and_lower_the_domain(given, stored):
    assert validate_email(given) == stored


@pytest.mark.parametrize("email", ["", "no-at", "a@b", "a b@c.com", "a@-b.com", "a@b..com", "x" * 250 + "@b.com"])
def test_invalid_emails_are_named(email):
    with pytest.raises(SubscriberError, match="invalid email address"):
        validate_email(email)


def test_phones_are_stored_in_e164():
    assert validate_phone("+1 (415) 555-0123") == "+14155550123"
    assert validate_phone("+44 20 7946 0958") == "+442079460958"


@pytest.mark.parametrize("phone", ["+1 555 0100", "4155550123", "+0123456789", "+1", "+1415555012345678", "call me"])
def test_invalid_or_national_phones_are_refused(phone):
    with pytest.raises(SubscriberError, match=r"invalid phone number .*E\.164"):
        validate_phone(phone)


# ---------------------------------------------------------------- what a subscription may hold


def test_a_new_subscriber_is_pending_with_a_token_and_unique_platforms():
    sub = subscriber(platforms=["anthropic", "anthropic", " openai "], phone="+1 415 555 0123")
    assert sub.platforms == ["anthropic", "openai"] and sub.phone == "+14155550123"
    assert sub.status == "pending" and sub.subscriber_id.startswith("sub_") and len(sub.unsubscribe_token) >= 24
    assert sub.sms_min_severity == "medium" and sub.created_at == sub.updated_at


def test_tier_platform_limits_have_exact_messages():
    with pytest.raises(TierError) as free:
        subscriber("free", ["anthropic", "openai", "google"])
    assert str(free.value) == "the Free tier watches 1 platform; 3 were given"
    with pytest.raises(TierError) as watcher:
        subscriber("watcher", PLATFORMS[:11])
    assert str(watcher.value) == "the Watcher tier watches up to 10 platforms; 11 were given"
    assert len(subscriber("watcher", PLATFORMS[:10]).platforms) == 10
    assert len(subscriber("professional", PLATFORMS).platforms) == len(PLATFORMS)


def test_channels_beyond_the_tier_are_refused():
    with pytest.raises(TierError, match="the Free tier has no SMS alerts"):
        subscriber("free", phone="+14155550123")
    with pytest.raises(TierError, match="the Watcher tier has no webhooks"):
        subscriber("watcher", webhooks=[hook()])
    with pytest.raises(TierError, match="the Watcher tier has no provision filters"):
        subscriber("watcher", provisions=["model-training"])
    assert subscriber("free", digest=True).digest  # the digest is what the Free tier gets anyway


def test_webhook_endpoints_are_limited_by_the_tier_when_written():
    hooks = [hook(f"{HOOK}/{i}") for i in range(6)]
    assert tier("professional").max_webhooks == 5 and tier("watcher").max_webhooks == 0
    with pytest.raises(TierError) as refused:
        subscriber("professional", webhooks=hooks)
    assert str(refused.value) == "the Professional tier has up to 5 webhook endpoints; 6 were given"
    sub = subscriber("professional", webhooks=hooks[:5])
    with pytest.raises(TierError, match="up to 5 webhook endpoints; 6 were given"):
        updated(sub, PLATFORMS, PROVISIONS, webhooks=hooks)


def test_webhook_endpoints_beyond_the_tier_get_nothing_at_fan_out():
    hooks = [hook(f"{HOOK}/{i}") for i in range(80)]
    stored = replace(active(tier_id="professional"), webhooks=hooks)  # written behind our back
    assert entitlement(stored, change()).channels == ("email", *(h.channel for h in hooks[:5]))


def test_unknown_platform_and_provision_are_named():
    with pytest.raises(SubscriberError, match="unknown platform 'nope'"):
        subscriber(platforms=["anthropic", "nope"])
    with pytest.raises(SubscriberError, match="unknown provision 'telepathy'"):
        subscriber("professional", provisions=["model-training", "telepathy"])
    with pytest.raises(SubscriberError, match="at least one platform"):
        subscriber(platforms=[])


def test_sms_severity_must_be_known():
    with pytest.raises(SubscriberError, match="SMS severity must be one of low, medium, high"):
        subscriber(sms_min_severity="urgent")


def test_webhook_endpoints_are_https_with_a_whsec_secret():
    endpoint = hook()
    assert endpoint.endpoint_id.startswith("wh_") and endpoint.secret.startswith("whsec_")
    assert endpoint.channel == f"webhook:{endpoint.endpoint_id}"
    with pytest.raises(SubscriberError, match="must use https"):
        new_endpoint("http://hooks.example.com/pw")
    assert new_endpoint("http://localhost:8080/pw", allowlist=frozenset({"localhost:8080"})).url.startswith("http:")
    with pytest.raises(SubscriberError, match="loopback"):
        new_endpoint("https://127.0.0.1/pw")
    with pytest.raises(SubscriberError, match="whsec_"):
        hook(HOOK, secret="not-a-secret")


def test_updated_validates_again_and_refuses_a_downgrade_beyond_the_new_tier():
    sub = subscriber("watcher", ["anthropic", "openai", "google"])
    with pytest.raises(TierError) as downgrade:
        updated(sub, PLATFORMS, PROVISIONS, tier="free")
    assert str(downgrade.value) == "the Free tier watches 1 platform; 3 were given"
    moved = updated(sub, PLATFORMS, PROVISIONS, tier="free", platforms=["openai"])
    assert (moved.tier, moved.platforms, moved.subscriber_id) == ("free", ["openai"], sub.subscriber_id)
    assert updated(sub, PLATFORMS, PROVISIONS, phone="+1 415 555 0123").phone == "+14155550123"
    with pytest.raises(SubscriberError, match="invalid email address"):
        updated(sub, PLATFORMS, PROVISIONS, email="nope")


# ---------------------------------------------------------------- storage and display


def test_items_round_trip_and_public_hides_the_token_and_secrets():
    sub = active(
        tier_id="professional",
        platforms=["anthropic", "openai"],
        phone="+14155550123",
        webhooks=[hook()],
        provisions=["model-training"],
        digest=True,
    )
    assert Subscriber.from_item(sub.to_item()) == sub
    assert "phone" not in subscriber().to_item()  # DynamoDB has no None
    shown = sub.public()
    assert "unsubscribe_token" not in shown
    assert shown["webhooks"] == [{"endpoint_id": sub.webhooks[0].endpoint_id, "url": HOOK}]
    assert sub.webhooks[0].secret not in repr(shown) and sub.unsubscribe_token not in repr(shown)


# ---------------------------------------------------------------- what a subscriber receives


def test_free_subscribers_wait_for_the_digest():
    sub = active(tier_id="free")
    granted = entitlement(sub, change())
    assert granted is not None and not granted.same_day and granted.channels == ()
    assert digest_plan(sub, change()).id == "free"


def test_watcher_gets_email_and_sms_from_its_severity_up():
    sub = active(tier_id="watcher", phone="+14155550123", sms_min_severity="medium")
    assert entitlement(sub, change(severity="high")).channels == ("email", "sms")
    assert entitlement(sub, change(severity="medium")).channels == ("email", "sms")
    assert entitlement(sub, change(severity="low")).channels == ("email",)
    assert entitlement(active(tier_id="watcher"), change()).channels == ("email",)  # no phone
    assert entitlement(sub, change(platform="openai")) is None


def test_professional_gets_each_webhook_and_its_provision_filter_applies():
    hooks = [hook(), hook("https://hooks.example.com/other")]
    sub = active(tier_id="professional", webhooks=hooks, provisions=["model-training", "data-retention"])
    granted = entitlement(sub, change(categories=["model-training", "minors"]))
    assert granted.same_day and granted.channels == ("email", f"webhook:{hooks[0].endpoint_id}", hooks[1].channel)
    assert entitlement(sub, change(categories=["minors"])) is None
    assert entitlement(replace(sub, provisions=[]), change(categories=["minors"])) is not None


def test_a_downgraded_subscriber_gets_only_the_platforms_its_tier_allows_in_their_order():
    stored = replace(active(tier_id="professional", platforms=PLATFORMS[:12]), tier="watcher")
    assert entitlement(stored, change(platform=PLATFORMS[9])).channels == ("email",)
    assert entitlement(stored, change(platform=PLATFORMS[10])) is None
    assert entitlement(stored, change(platform=PLATFORMS[11])) is None


def test_a_subscriber_not_active_or_of_an_unknown_tier_gets_nothing():
    for status in ("pending", "unsubscribed"):
        sub = replace(active(), status=status)
        assert entitlement(sub, change()) is None and digest_plan(sub, change()) is None
    assert entitlement(replace(active(), tier="gold"), change()) is None


def test_digest_plan_for_same_day_tiers_is_opt_in():
    assert digest_plan(active(tier_id="watcher"), change()) is None
    assert digest_plan(active(tier_id="watcher", digest=True), change()).id == "watcher"
    pro = active(tier_id="professional", digest=True, provisions=["model-training"])
    assert digest_plan(pro, change()).id == "professional"
    assert digest_plan(pro, change(categories=["minors"])) is None
    assert digest_plan(active(tier_id="free"), change(platform="openai")) is None
