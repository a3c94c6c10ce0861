"""A subscriber's own edits after a downgrade: held to the tier in what they change, not in what the downgrade kept."""

import socket
from dataclasses import replace

import pytest

from policywatch.core.errors import InputError
from policywatch.subscribers import new_endpoint, new_subscriber, updated
from policywatch.subscribers.tiers import TierError

PLATFORMS = ["anthropic", "openai", "google"]


def public_dns(host, port, *args, **kwargs):
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))]


def downgraded():
    """A Professional subscriber moved to Free by billing: nothing trimmed."""
    hooks = [new_endpoint(f"https://hooks.example.com/{n}", getaddrinfo=public_dns) for n in range(2)]
    pro = new_subscriber(
        email="ana@example.com",
        tier_id="professional",
        platforms=PLATFORMS,
        known_platforms=PLATFORMS,
        known_provisions=["model-training"],
        phone="+14155550123",
        webhooks=hooks,
        provisions=["model-training"],
    )
    return replace(pro, tier="free")


def edit(subscriber, **changes):
    return updated(subscriber, PLATFORMS, ["model-training"], lenient=True, **changes)


def test_removals_pass_whatever_else_lies_beyond_the_tier():
    before = downgraded()
    assert edit(before, webhooks=before.webhooks[1:]).webhooks == before.webhooks[1:]
    assert edit(before, phone=None).phone is None
    assert edit(before, provisions=[]).provisions == []
    assert edit(before, platforms=["openai", "google"]).platforms == ["openai", "google"]  # fewer, still over


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"phone": "+14155550199"}, "no SMS"),
        ({"provisions": ["model-training", "x"]}, "provision"),
    ],
)
def test_what_an_edit_adds_is_held_to_the_tier(changes, says):
    with pytest.raises(InputError, match=says):  # a TierError, or a SubscriberError for an unknown value
        edit(downgraded(), **changes)


def test_without_lenient_every_limit_applies_as_before():
    with pytest.raises(TierError):
        updated(downgraded(), PLATFORMS, ["model-training"], phone=None)
