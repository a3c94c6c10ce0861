"""Professional links: signed per subscriber, expiring, and only for an active Professional."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from policywatch.core.links import Links
from policywatch.storage.subscribers import Subscribers
from policywatch.web import signed
from tests.helpers.notify import subscribe

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
PATH = "pro/changes/anthropic/privacy-policy/2025-08-29T003202.000Z"


def _query(url: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in url.split("?", 1)[1].split("&"))


def _link(subscriber, expires: datetime = NOW + timedelta(days=30)) -> dict[str, str]:
    url = Links("https://policywatch.test").pro(
        PATH, subscriber.subscriber_id, subscriber.unsubscribe_token, int(expires.timestamp())
    )
    return _query(url)


def test_a_professional_link_opens_until_it_expires(stack):
    pat = subscribe("pat@example.com", "professional")
    query = _link(pat)
    assert signed.check(Subscribers("subscribers"), "/" + PATH, query, NOW).subscriber_id == pat.subscriber_id
    assert signed.query_of({**query, "other": "x"}) == f"s={pat.subscriber_id}&e={query['e']}&sig={query['sig']}"
    later = NOW + timedelta(days=31)
    assert signed.check(Subscribers("subscribers"), "/" + PATH, query, later) == signed.EXPIRED


@pytest.mark.parametrize(
    "tamper",
    [
        lambda q: {**q, "sig": q["sig"][:-2] + "AA"},  # another signature
        lambda q: {**q, "e": str(int(q["e"]) + 86400)},  # a later expiry than was signed
        lambda q: {k: v for k, v in q.items() if k != "sig"},
        lambda q: {**q, "s": "sub_" + "0" * 16},  # someone else
        lambda q: {**q, "e": "soon"},
        lambda q: {**q, "s": "x" * 500},
    ],
)
def test_a_forged_or_malformed_link_opens_nothing(stack, tamper):
    pat = subscribe("pat@example.com", "professional")
    assert signed.check(Subscribers("subscribers"), "/" + PATH, tamper(_link(pat)), NOW) == signed.NOT_VALID


def test_a_link_ends_with_the_professional_tier_or_the_subscription(stack):
    subscribers = Subscribers("subscribers")
    pat = subscribe("pat@example.com", "professional")
    query = _link(pat)
    downgraded = subscribers.save(replace(pat, tier="watcher"), pat)
    assert signed.check(subscribers, "/" + PATH, query, NOW) == signed.NOT_PROFESSIONAL
    again = subscribers.save(replace(downgraded, tier="professional"), downgraded)
    assert signed.check(subscribers, "/" + PATH, query, NOW).subscriber_id == pat.subscriber_id
    subscribers.set_status(again, "unsubscribed")
    assert signed.check(subscribers, "/" + PATH, query, NOW) == signed.NOT_PROFESSIONAL
    watcher = subscribe("ana@example.com", "watcher")
    assert signed.check(subscribers, "/" + PATH, _link(watcher), NOW) == signed.NOT_PROFESSIONAL
