"""What a subscriber stops receiving on another tier (``subscribers.downgrade``), over the tiers of tiers.json."""

from __future__ import annotations

from itertools import permutations

import pytest

from policywatch.subscribers import Endpoint, Subscriber, entitlement
from policywatch.subscribers.downgrade import beyond_limits, what_stops
from policywatch.subscribers.tiers import TierError, tiers

HOOK = Endpoint("wh_0a1b2c3d4e5f", "https://hooks.example.com/pw?token=secret", "whsec_" + "A" * 32)
OTHER = Endpoint("wh_ffeeddccbbaa", "https://siem.example.org/in", "whsec_" + "B" * 32)
ORDER = ("free", "watcher", "professional")  # each tier allows at least what the one before it does


def subscriber(tier_id: str, platforms=("anthropic",), **fields) -> Subscriber:
    """Stored as it may be: not validated, so beyond its tier's limits if a test says so."""
    return Subscriber("sub_0123456789abcdef", "ana@example.com", tier_id, list(platforms), status="active", **fields)


def everything(tier_id: str) -> Subscriber:
    """Every feature a tier can have in use: 12 platforms, a phone, two webhooks, a provision filter, the digest."""
    platforms = ["anthropic", "openai", "google"] + [f"p{i}" for i in range(9)]
    return subscriber(
        tier_id, platforms, phone="+14155550123", webhooks=[HOOK, OTHER], provisions=["model-training"], digest=True
    )


def test_the_tiers_are_in_the_order_the_tests_assume():
    assert set(tiers()) == set(ORDER)


@pytest.mark.parametrize(("old", "new"), [(a, b) for a, b in permutations(ORDER, 2) if ORDER.index(b) > ORDER.index(a)])
def test_an_upgrade_stops_nothing(old, new):
    assert what_stops(everything(old), new) == []


@pytest.mark.parametrize("tier_id", ORDER)
def test_the_same_tier_stops_nothing(tier_id):
    assert what_stops(everything(tier_id), tier_id) == []


def test_professional_to_free_names_every_loss_one_sentence_each():
    lines = what_stops(everything("professional"), "free")
    assert lines == [
        "No more alerts about openai, google, p0, p1, p2, p3, p4, p5, p6, p7 and p8: the Free tier watches "
        "1 platform, the first chosen (anthropic).",
        "Same-day alerts stop: changes arrive only in the weekly digest, on Mondays.",
        "SMS alerts stop: the Free tier sends none (the phone number is kept for an upgrade).",
        "Webhook deliveries stop to wh_0a1b2c3d4e5f (hooks.example.com) and wh_ffeeddccbbaa (siem.example.org): "
        "the Free tier has no webhooks (the endpoints and their secrets are kept for an upgrade).",
        "The provision filter stops (model-training): every change to the watched platforms reaches you, "
        "not only those.",
        "Alerts no longer carry the regulatory mapping or a link to the Professional view, and the Professional "
        "links already sent stop opening it.",
        "Alerts no longer carry the evidence (both versions' SHA-256 and archived copies); each change page "
        "still shows it.",
    ]
    assert all("\n" not in line and "secret" not in line.split("(")[0] for line in lines)
    assert not any("token=" in line for line in lines)  # a webhook is named by its id and host, never its URL


def test_professional_to_watcher_keeps_same_day_alerts_and_sms():
    lines = what_stops(everything("professional"), "watcher")
    assert lines[0] == (
        "No more alerts about p7 and p8: the Watcher tier watches up to 10 platforms, the first chosen "
        "(anthropic, openai, google, p0, p1, p2, p3, p4, p5, p6)."
    )
    assert [line.split(":")[0].split(" (")[0] for line in lines[1:]] == [
        "Webhook deliveries stop to wh_0a1b2c3d4e5f",
        "The provision filter stops",
        "Alerts no longer carry the regulatory mapping or a link to the Professional view, and the Professional "
        "links already sent stop opening it.",
        "Alerts no longer carry the evidence",
    ]
    assert not any("SMS" in line or "Same-day" in line or "digest on top" in line for line in lines)


def test_watcher_to_free_stops_same_day_alerts_and_sms_and_platforms_beyond_the_first():
    ana = subscriber("watcher", ["openai", "anthropic"], phone="+14155550123", digest=True)
    assert what_stops(ana, "free") == [
        "No more alerts about anthropic: the Free tier watches 1 platform, the first chosen (openai).",
        "Same-day alerts stop: changes arrive only in the weekly digest, on Mondays.",
        "SMS alerts stop: the Free tier sends none (the phone number is kept for an upgrade).",
    ]


def test_only_what_the_subscriber_uses_is_named():
    assert what_stops(subscriber("watcher"), "free") == [
        "Same-day alerts stop: changes arrive only in the weekly digest, on Mondays."
    ]
    assert what_stops(subscriber("professional"), "watcher") == [
        "Alerts no longer carry the regulatory mapping or a link to the Professional view, and the Professional "
        "links already sent stop opening it.",
        "Alerts no longer carry the evidence (both versions' SHA-256 and archived copies); each change page "
        "still shows it.",
    ]


def test_the_platforms_kept_are_the_first_in_the_subscribers_order_as_fan_out_keeps_them():
    ana = subscriber("free", ["google", "anthropic", "openai"])
    [line] = what_stops(subscriber("watcher", ana.platforms), "free")[:1]
    assert line.startswith("No more alerts about anthropic and openai:") and "(google)" in line
    change = {"platform": "google", "categories": []}
    assert entitlement(ana, change) is not None
    assert all(entitlement(ana, {**change, "platform": p}) is None for p in ("anthropic", "openai"))


def test_platforms_already_beyond_the_old_tier_are_not_named_again():
    """A Free subscriber stored with three platforms receives only the first: moving to Free from Free
    stops nothing, and from a stored Watcher with 12 only those the Watcher tier covered now."""
    assert what_stops(subscriber("free", ["anthropic", "openai", "google"]), "free") == []
    first = what_stops(everything("watcher"), "free")[0]
    assert first.startswith("No more alerts about openai, google, p0, p1, p2, p3, p4, p5 and p6:")  # not p7, p8


def test_an_unknown_new_tier_is_a_tier_error_and_an_unknown_current_tier_stops_nothing():
    with pytest.raises(TierError, match="unknown tier 'gold'"):
        what_stops(subscriber("watcher"), "gold")
    assert what_stops(subscriber("gold"), "free") == []  # fan-out sends such a subscriber nothing now


def test_what_is_kept_beyond_the_new_tiers_limits():
    assert beyond_limits(everything("professional"), "free") == [
        "12 platforms (1 allowed)",
        "a phone number",
        "2 webhook endpoints",
        "a provision filter",
    ]
    assert beyond_limits(everything("professional"), "watcher") == [
        "12 platforms (10 allowed)",
        "2 webhook endpoints",
        "a provision filter",
    ]
    assert beyond_limits(everything("professional"), "professional") == []
    assert beyond_limits(subscriber("watcher"), "free") == []
