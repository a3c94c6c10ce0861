"""Webhook endpoints: where they may point when written, and their secrets' rotation (no AWS, no real DNS)."""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from policywatch.subscribers import Subscriber, SubscriberError, new_endpoint, new_subscriber
from policywatch.subscribers.model import Endpoint, rotated
from policywatch.subscribers.secrets import new_secret

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def dns(*addresses: str):
    """A resolver answering ``addresses`` for any name, recording the names it was asked."""
    asked = []

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append(host)
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses
        ]

    getaddrinfo.asked = asked
    return getaddrinfo


def nxdomain(host, *args, **kwargs):
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


# ---------------------------------------------------------------- where an endpoint may point


def test_a_public_name_is_resolved_once_and_accepted():
    resolver = dns("93.184.215.14")
    endpoint = new_endpoint(" https://hooks.example.com/pw ", getaddrinfo=resolver)
    assert endpoint.url == "https://hooks.example.com/pw" and resolver.asked == ["hooks.example.com"]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (("127.0.0.1",), "webhook host 'hooks.example.com' resolves to 127.0.0.1, a loopback address"),
        (("10.1.2.3",), "webhook host 'hooks.example.com' resolves to 10.1.2.3, a private address (RFC 1918)"),
        (
            ("93.184.215.14", "169.254.169.254"),  # one private answer among public ones is enough
            "webhook host 'hooks.example.com' resolves to 169.254.169.254, "
            "a link-local address (169.254.0.0/16; cloud metadata)",
        ),
        (("::1",), "webhook host 'hooks.example.com' resolves to ::1, a loopback address"),
    ],
)
def test_a_name_resolving_to_a_private_address_is_refused_when_written(answer, message):
    with pytest.raises(SubscriberError) as refused:
        new_endpoint("https://hooks.example.com/pw", getaddrinfo=dns(*answer))
    assert str(refused.value) == message


def test_a_name_that_does_not_resolve_is_refused_when_written():
    with pytest.raises(SubscriberError, match=r"^webhook host 'nowhere\.example' does not resolve: .*not known$"):
        new_endpoint("https://nowhere.example/pw", getaddrinfo=nxdomain)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://localhost/pw", "points at localhost, a loopback name (localhost)"),
        ("https://LocalHost:8443/pw", "points at localhost, a loopback name (localhost)"),
        ("https://app.localhost/pw", "points at app.localhost, a loopback name (localhost)"),
        ("https://ip-10-0-0-7.ec2.internal/pw", "a private network name (.internal)"),
        ("https://printer.local/pw", "a local network name (.local, multicast DNS)"),
        ("https://nas.home.arpa/pw", "a home network name (.home.arpa)"),
    ],
)
def test_local_names_are_refused_before_any_lookup(url, reason):
    resolver = dns("93.184.215.14")  # even a resolver answering a public address does not let them through
    with pytest.raises(SubscriberError) as refused:
        new_endpoint(url, getaddrinfo=resolver)
    assert str(refused.value).startswith("webhook URL ") and str(refused.value).endswith(reason)
    assert resolver.asked == []


@pytest.mark.parametrize("url", ["https://localhost.example.com/pw", "https://internal.example.com/pw"])
def test_names_that_only_look_local_are_resolved_as_any_other(url):
    assert new_endpoint(url, getaddrinfo=dns("93.184.215.14")).url == url


def test_an_allowlisted_receiver_is_accepted_without_a_lookup():
    # The local stack's receivers: the operator's WebhookHttpAllowlist, loopback included.
    for url, entry in [
        ("http://127.0.0.1:8080/hook", "127.0.0.1:8080"),
        ("http://localhost:8080/hook", "localhost:8080"),
        ("http://receiver:9000/hook", "receiver:9000"),  # a name only the functions' network resolves
    ]:
        assert new_endpoint(url, allowlist=frozenset({entry}), getaddrinfo=nxdomain).url == url


def test_the_static_rules_come_first_and_the_secret_is_checked_too():
    resolver = dns("93.184.215.14")
    with pytest.raises(SubscriberError, match="must use https"):
        new_endpoint("http://hooks.example.com/pw", getaddrinfo=resolver)
    with pytest.raises(SubscriberError, match="points at 127.0.0.1, a loopback address"):
        new_endpoint("https://127.0.0.1/pw", getaddrinfo=resolver)
    assert resolver.asked == []
    with pytest.raises(SubscriberError, match="whsec_"):
        new_endpoint("https://hooks.example.com/pw", secret="not-a-secret", getaddrinfo=resolver)


# ---------------------------------------------------------------- secret rotation


def endpoint() -> Endpoint:
    return Endpoint("wh_0123456789ab", "https://hooks.example.com/pw", new_secret())


def test_a_rotated_endpoint_signs_with_both_secrets_until_the_overlap_ends():
    old = endpoint()
    new = rotated(old, NOW)
    assert new.secret != old.secret and new.secret.startswith("whsec_")
    assert (new.endpoint_id, new.url) == (old.endpoint_id, old.url)
    assert (new.previous_secret, new.previous_until) == (old.secret, "2026-03-02T12:00:00Z")
    assert new.signing_secrets(NOW) == (new.secret, old.secret)
    assert new.signing_secrets(NOW + timedelta(hours=23, minutes=59)) == (new.secret, old.secret)
    assert new.signing_secrets(NOW + timedelta(hours=24)) == (new.secret,)
    assert old.signing_secrets(NOW) == (old.secret,)


def test_the_overlap_can_be_chosen_and_none_means_the_old_secret_stops_at_once():
    old = endpoint()
    short = rotated(old, NOW, overlap=timedelta(hours=1))
    assert short.signing_secrets(NOW + timedelta(minutes=59)) == (short.secret, old.secret)
    assert short.signing_secrets(NOW + timedelta(hours=1)) == (short.secret,)
    at_once = rotated(old, NOW, overlap=timedelta(0))
    assert at_once.signing_secrets(NOW) == (at_once.secret,) and at_once.previous_secret == ""


def test_rotating_again_within_the_overlap_keeps_two_secrets_at_most():
    first = endpoint()
    second = rotated(first, NOW)
    third = rotated(second, NOW + timedelta(hours=1))
    assert third.signing_secrets(NOW + timedelta(hours=2)) == (third.secret, second.secret)
    assert first.secret not in third.signing_secrets(NOW + timedelta(hours=2))


def test_an_unreadable_overlap_end_signs_with_the_current_secret_only():
    old = endpoint()
    for until in ("", "tomorrow", "2026-03-02T12:00:00"):  # the last has no time zone: not ours
        broken = replace(rotated(old, NOW), previous_until=until)
        assert broken.signing_secrets(NOW) == (broken.secret,)


def test_signing_secrets_defaults_to_the_current_time():
    fresh = rotated(endpoint())  # now, for a day
    assert len(fresh.signing_secrets()) == 2
    assert len(rotated(endpoint(), datetime(2020, 1, 1, tzinfo=UTC)).signing_secrets()) == 1  # long over


# ---------------------------------------------------------------- storage and display


def subscriber(*hooks: Endpoint) -> Subscriber:
    sub = new_subscriber(
        email="ana@example.com",
        tier_id="professional",
        platforms=["anthropic"],
        known_platforms=["anthropic"],
        webhooks=hooks,
    )
    return replace(sub, status="active")


def test_a_rotated_endpoint_round_trips_and_its_secrets_are_never_shown():
    rotating = rotated(endpoint(), NOW)
    sub = subscriber(rotating, endpoint())
    item = sub.to_item()
    assert Subscriber.from_item(item) == sub
    assert item["webhooks"][0]["previous_until"] == "2026-03-02T12:00:00Z"
    assert "previous_secret" not in item["webhooks"][1] and "previous_until" not in item["webhooks"][1]
    shown = repr(sub.public()) + repr(sub) + repr(rotating)
    for secret in (rotating.secret, rotating.previous_secret, sub.webhooks[1].secret):
        assert secret not in shown


def test_an_endpoint_stored_before_rotation_existed_still_loads():
    secret = new_secret()
    item = subscriber().to_item() | {
        "webhooks": [{"endpoint_id": "wh_1", "url": "https://h.example.com/", "secret": secret}]
    }
    loaded = Subscriber.from_item(item).webhooks[0]
    assert loaded == Endpoint("wh_1", "https://h.example.com/", secret)
    assert loaded.signing_secrets(NOW) == (secret,)
