"""The test event an endpoint's owner sends from their settings, against real local receivers.

It goes as a delivery goes (signed, address-checked, within the same deadline) and always comes
back as an outcome with one line for a person, never as an exception. Receivers verify with the
``standardwebhooks`` library.
"""

from __future__ import annotations

import re
import socket
import threading
from datetime import timedelta

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from policywatch.core import clock
from policywatch.core.outbound import parse_allowlist
from policywatch.notify.channels.webhook import TestOutcome, send_test
from policywatch.subscribers.model import Endpoint, rotated
from policywatch.subscribers.secrets import new_secret
from tests.helpers.webhooks import verifying


@pytest.fixture(scope="module")
def receiver():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def server(receiver):
    receiver.clear()
    yield receiver
    receiver.clear()


@pytest.fixture
def allowlist(server):
    return parse_allowlist(f"127.0.0.1:{server.port}")


def hook(server, path: str = "/hook") -> Endpoint:
    return Endpoint("wh_0123456789ab", server.url_for(path), new_secret())


def test_a_test_event_arrives_signed_and_reports_the_status_and_time(server, allowlist):
    endpoint = hook(server)
    received: list = []
    server.expect_request("/hook", method="POST").respond_with_handler(verifying(endpoint.secret, received, 200))

    outcome = send_test(endpoint, allowlist=allowlist)

    assert outcome.ok and outcome.status == 200
    assert re.fullmatch(r"HTTP 200 in \d+ ms", outcome.reason)
    assert outcome.message_id.startswith("msg_test_")
    (delivery,) = received
    assert delivery["headers"]["Webhook-Id"] == outcome.message_id
    event = delivery["payload"]
    assert event["type"] == "policywatch.test" and event["data"]["test"] is True
    assert "no policy changed" in event["data"]["summary"]


def test_each_test_event_has_its_own_message_id(server, allowlist):
    server.expect_request("/hook").respond_with_data("", status=204)
    first, second = (send_test(hook(server), allowlist=allowlist) for _ in range(2))
    assert first.ok and second.ok and first.message_id != second.message_id


def test_during_a_rotation_a_receiver_still_holding_the_old_secret_verifies_the_test(server, allowlist):
    old = hook(server)
    new = rotated(old, clock.now() - timedelta(minutes=5))
    received: list = []
    server.expect_request("/hook").respond_with_handler(verifying(old.secret, received, 200))

    assert send_test(new, allowlist=allowlist).ok and len(received) == 1


def test_after_the_rotation_a_receiver_with_the_old_secret_fails_the_test(server, allowlist):
    old = hook(server)
    new = rotated(old, clock.now() - timedelta(hours=25))

    def strict(request: Request) -> Response:  # a receiver refusing what it cannot verify, as it should
        try:
            verifying(old.secret, [])(request)
        except Exception:
            return Response("bad signature", status=401)
        return Response("", status=204)

    server.expect_request("/hook").respond_with_handler(strict)

    outcome = send_test(new, allowlist=allowlist)

    assert outcome == TestOutcome(False, 401, "the receiver answered HTTP 401 Unauthorized", outcome.message_id)


@pytest.mark.parametrize(
    ("status", "reason"),
    [(500, "the receiver answered HTTP 500 Internal Server Error"), (404, "the receiver answered HTTP 404 Not Found")],
)
def test_an_error_status_is_reported_in_a_line(server, allowlist, status, reason):
    server.expect_request("/hook").respond_with_data("nope", status=status)
    outcome = send_test(hook(server), allowlist=allowlist)
    assert (outcome.ok, outcome.status, outcome.reason) == (False, status, reason)


def test_a_redirect_is_reported_and_not_followed(server, allowlist):
    server.expect_request("/hook").respond_with_data("", status=302, headers={"Location": "https://elsewhere.example/"})
    outcome = send_test(hook(server), allowlist=allowlist)
    assert (outcome.ok, outcome.status) == (False, 302)
    assert outcome.reason == "the receiver redirected (302) to https://elsewhere.example/; redirects are not followed"
    assert len(server.log) == 1


def test_the_address_rules_apply_and_nothing_is_sent(server):
    def private_dns(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))]

    outcome = send_test(
        Endpoint("wh_1", f"https://hooks.example.com:{server.port}/hook", new_secret()),
        allowlist=frozenset(),
        getaddrinfo=private_dns,
    )
    assert (outcome.ok, outcome.status) == (False, None)
    assert outcome.reason == "webhook host 'hooks.example.com' resolves to 10.0.0.7, a private address (RFC 1918)"
    not_allowlisted = send_test(hook(server), allowlist=frozenset())
    assert not not_allowlisted.ok and "must use https" in not_allowlisted.reason
    assert server.log == []


def test_a_receiver_that_is_down_is_reported():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
    outcome = send_test(
        Endpoint("wh_1", f"http://127.0.0.1:{port}/hook", new_secret()),
        allowlist=parse_allowlist(f"127.0.0.1:{port}"),
    )
    assert (outcome.ok, outcome.status) == (False, None)
    assert outcome.reason.startswith(f"could not connect to 127.0.0.1:{port} (127.0.0.1): ")
    assert "\n" not in outcome.reason


def test_a_slow_receiver_is_cut_off_at_the_deadline(server, allowlist):
    release = threading.Event()
    server.expect_request("/hook").respond_with_handler(lambda request: release.wait(5) and Response("late"))
    try:
        outcome = send_test(hook(server), allowlist=allowlist, read_timeout=0.3, deadline=0.5)
    finally:
        release.set()
    assert (outcome.ok, outcome.status) == (False, None)
    assert "timed out after" in outcome.reason


def test_an_unusable_secret_is_reported_not_raised(server, allowlist):
    outcome = send_test(Endpoint("wh_1", server.url_for("/hook"), "whsec_c2hvcnQ="), allowlist=allowlist)
    assert not outcome.ok and outcome.reason.startswith("webhook secret must decode to")
    assert server.log == []
