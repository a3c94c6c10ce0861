"""Subscriber validation and tier limits (no AWS)."""

import pytest

from policywatch.subscribers import SubscriberError, new_subscriber, validate_email, validate_phone
from policywatch.tiers import TierError, tier, tiers

KNOWN = ["anthropic", "openai", "google"] + [f"p{i}" for i in range(12)]


def test_tiers_load_from_data():
    assert set(tiers()) == {"free", "watcher", "professional"}
    assert tier("free").max_platforms == 1 and not tier("free").same_day
    assert tier("watcher").channels == ("email", "sms")
    assert tier("professional").max_platforms is None
    with pytest.raises(TierError, match="unknown tier 'gold'"):
        tier("gold")


@pytest.mark.parametrize("email", ["a@b.co", "first.last+tag@example.org"])
def test_valid_emails(email):
    assert validate_email(email) == email


@pytest.mark.parametrize("email", ["", "no-at", "a@b", "a b@c.com", "a@-b.com", "a@b..com", "x" * 250 + "@b.com"])
def test_invalid_emails_are_named(email):
    with pytest.raises(SubscriberError, match="invalid email address"):
        validate_email(email)


def test_phones():
    assert validate_phone("+1 (415) 555-0123") == "+14155550123"
    for bad in ("4155550123", "+0123456789", "+1", "+1415555012345678", "+1-415-CALL-NOW"):
        with pytest.raises(SubscriberError, match="E.164"):
            validate_phone(bad)


def test_tier_limits():
    with pytest.raises(TierError, match="at most 1 platform"):
        new_subscriber("a@b.co", "free", ["anthropic", "openai"], None, KNOWN)
    with pytest.raises(TierError, match="no SMS"):
        new_subscriber("a@b.co", "free", ["anthropic"], "+14155550123", KNOWN)
    with pytest.raises(TierError, match="at most 10"):
        new_subscriber("a@b.co", "watcher", KNOWN[:11], None, KNOWN)
    assert len(new_subscriber("a@b.co", "professional", KNOWN, None, KNOWN).platforms) == len(KNOWN)


def test_unknown_platform_and_duplicates():
    with pytest.raises(SubscriberError, match="unknown platform 'nope'"):
        new_subscriber("a@b.co", "watcher", ["nope"], None, KNOWN)
    sub = new_subscriber("a@b.co", "watcher", ["anthropic", "anthropic", " openai "], None, KNOWN)
    assert sub.platforms == ["anthropic", "openai"] and sub.subscriber_id.startswith("sub_")
