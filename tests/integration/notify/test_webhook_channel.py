"""The webhook channel against real local receivers (pytest-httpserver).

Signatures are verified on the receiving side with the ``standardwebhooks`` library, never
with our own code. Every connection goes to loopback (127.0.0.0/8): nothing leaves the machine.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pytest_httpserver import HTTPServer
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from werkzeug import Response

from policywatch.core.outbound import parse_allowlist
from policywatch.notify.channels import webhook
from policywatch.notify.channels.webhook import WebhookError, payload, send
from policywatch.subscribers.secrets import new_secret
from tests.helpers.tls import certificate_authority, server_context
from tests.helpers.webhooks import Trickler

CHANGE = {
    "detected_at": "2026-03-01T06:00:00Z",
    "platform": "openai",
    "document_type": "privacy_policy",
    "severity": "high",
    "summary": "Conversations may be kept for 30 days – même supprimées",
}
BODY = payload(CHANGE)


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


def only_request(server):
    assert len(server.log) == 1, [request.url for request, _ in server.log]
    return server.log[0][0]


def loopback_dns(host, port, *args, **kwargs):
    """A resolver that answers 127.0.0.1 for every name (for allowlisted test names)."""
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]


# --- delivery and signature ----------------------------------------------------------------------


def test_a_delivery_arrives_signed_and_the_receiver_verifies_it(server, allowlist):
    server.expect_request("/hook", method="POST").respond_with_data("ok")
    secret = new_secret()

    status = send(server.url_for("/hook?source=policywatch"), secret, "msg_2vB1", BODY, allowlist=allowlist)

    assert status == 200
    request = only_request(server)
    assert request.full_path == "/hook?source=policywatch"
    assert request.get_data() == BODY
    headers = dict(request.headers)
    assert Webhook(secret).verify(request.get_data(), headers) == {
        "type": "policy.changed",
        "timestamp": "2026-03-01T06:00:00Z",
        "data": CHANGE,
    }
    assert request.headers["webhook-id"] == "msg_2vB1"
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 5
    assert request.headers["webhook-signature"].startswith("v1,")
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "policywatch-webhooks/1.0"
    assert request.headers["Host"] == f"127.0.0.1:{server.port}"


def test_a_different_secret_does_not_verify(server, allowlist):
    server.expect_request("/hook").respond_with_data("ok")
    send(server.url_for("/hook"), new_secret(), "msg_1", BODY, allowlist=allowlist)

    request = only_request(server)
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(new_secret()).verify(request.get_data(), dict(request.headers))


def test_a_retry_keeps_the_message_id_and_signs_a_fresh_timestamp(server, allowlist):
    server.expect_request("/hook").respond_with_data("ok")
    secret = new_secret()
    first = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=60)
    send(server.url_for("/hook"), secret, "msg_same", BODY, allowlist=allowlist, now=first)
    send(server.url_for("/hook"), secret, "msg_same", BODY, allowlist=allowlist)

    (one, _), (two, _) = server.log
    assert one.headers["webhook-id"] == two.headers["webhook-id"] == "msg_same"
    assert int(two.headers["webhook-timestamp"]) - int(one.headers["webhook-timestamp"]) >= 59
    for request in (one, two):
        Webhook(secret).verify(request.get_data(), dict(request.headers))


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_any_2xx_counts_as_delivered(server, allowlist, status):
    server.expect_request("/hook").respond_with_data("" if status == 204 else "accepted", status=status)
    assert send(server.url_for("/hook"), new_secret(), "msg_1", BODY, allowlist=allowlist) == status


@pytest.fixture
def keep_alive_receiver():
    """A stdlib HTTP/1.1 receiver that keeps connections open (werkzeug's test server closes each one).

    It records (client port, path) per request; "/big" answers 1 MiB, anything else "ok".
    """
    seen = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((self.client_address[1], self.path))
            answer = b"x" * (1024 * 1024) if self.path == "/big" else b"ok"
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the client stops reading after 64 KiB
                self.wfile.write(answer)

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            pass  # the client resets the connection it stopped reading (the 1 MiB answer)

    httpd = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    httpd.seen = seen
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_deliveries_to_one_receiver_reuse_the_connection(keep_alive_receiver):
    port = keep_alive_receiver.server_address[1]
    allowlist = parse_allowlist(f"127.0.0.1:{port}")
    for n in range(3):
        assert send(f"http://127.0.0.1:{port}/hook", new_secret(), f"msg_{n}", BODY, allowlist=allowlist) == 200
    assert [path for _, path in keep_alive_receiver.seen] == ["/hook"] * 3
    assert len({client_port for client_port, _ in keep_alive_receiver.seen}) == 1


def test_a_large_answer_is_not_read_whole_and_its_connection_is_not_reused(keep_alive_receiver):
    port = keep_alive_receiver.server_address[1]
    allowlist = parse_allowlist(f"127.0.0.1:{port}")
    assert send(f"http://127.0.0.1:{port}/big", new_secret(), "msg_1", BODY, allowlist=allowlist) == 200
    assert send(f"http://127.0.0.1:{port}/hook", new_secret(), "msg_2", BODY, allowlist=allowlist) == 200
    (first, _), (second, _) = keep_alive_receiver.seen
    assert first != second  # unread data left on the first connection: a new one carried the second


# --- failures ------------------------------------------------------------------------------------


def test_a_server_error_is_a_webhook_error_with_its_status(server, allowlist):
    server.expect_request("/hook").respond_with_data("boom", status=500)
    secret = new_secret()
    with pytest.raises(WebhookError) as failed:
        send(server.url_for("/hook"), secret, "msg_1", BODY, allowlist=allowlist)
    assert failed.value.status == 500
    assert failed.value.reason == "answered 500 Internal Server Error"
    assert secret not in str(failed.value) and secret.removeprefix("whsec_") not in str(failed.value)


def test_a_redirect_is_not_followed(server, allowlist):
    elsewhere = server.url_for("/elsewhere")
    server.expect_request("/hook").respond_with_data("", status=302, headers={"Location": elsewhere})
    server.expect_request("/elsewhere").respond_with_data("ok")

    with pytest.raises(WebhookError) as failed:
        send(server.url_for("/hook"), new_secret(), "msg_1", BODY, allowlist=allowlist)

    assert failed.value.status == 302
    assert failed.value.reason == f"redirected (302) to {elsewhere}; redirects are not followed"
    assert only_request(server).path == "/hook"


def test_a_slow_receiver_times_out(server, allowlist):
    def slow(request):
        time.sleep(0.6)
        return Response("late")

    server.expect_request("/hook").respond_with_handler(slow)
    started = time.monotonic()
    with pytest.raises(
        WebhookError, match=rf"timed out after 0\.3 s \(read\) waiting for 127\.0\.0\.1:{server.port}"
    ) as failed:
        send(server.url_for("/hook"), new_secret(), "msg_1", BODY, allowlist=allowlist, read_timeout=0.3)
    assert time.monotonic() - started < 0.55
    assert failed.value.status is None


def test_a_closed_port_is_a_connect_failure():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(WebhookError, match=rf"could not connect to 127\.0\.0\.1:{port} \(127\.0\.0\.1\): .*refused"):
        send(
            f"http://127.0.0.1:{port}/hook", new_secret(), "msg_1", BODY, allowlist=parse_allowlist(f"127.0.0.1:{port}")
        )


def test_a_bad_secret_is_refused_before_any_connection(server, allowlist):
    with pytest.raises(WebhookError, match="must start with 'whsec_'"):
        send(server.url_for("/hook"), "not-a-secret", "msg_1", BODY, allowlist=allowlist)
    assert server.log == []


# --- SSRF ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "reason"), [("http", "must use https"), ("https", "points at 127.0.0.1, a loopback address")]
)
def test_a_loopback_receiver_that_is_not_allowlisted_is_refused_before_connecting(server, scheme, reason):
    server.expect_request("/hook").respond_with_data("ok")
    with pytest.raises(WebhookError, match=reason) as failed:
        send(f"{scheme}://127.0.0.1:{server.port}/hook", new_secret(), "msg_1", BODY)
    assert failed.value.status is None
    assert server.log == []


def test_a_name_resolving_to_loopback_is_refused_before_connecting(server):
    server.expect_request("/hook").respond_with_data("ok")
    with pytest.raises(WebhookError, match="webhook host 'hooks.test' resolves to 127.0.0.1, a loopback address"):
        send(f"https://hooks.test:{server.port}/hook", new_secret(), "msg_1", BODY, getaddrinfo=loopback_dns)
    assert server.log == []


def test_dns_rebinding_cannot_redirect_a_checked_delivery(server, monkeypatch):
    """The name answers one address when checked and another afterwards: the connection must not follow.

    Both answers are loopback addresses (127.0.0.1, then 127.0.0.2, each with a receiver on the
    same port), so no traffic leaves the machine; the name is allowlisted so loopback passes the
    check. A sender that resolved again when connecting would reach the second receiver.
    """
    server.expect_request("/hook").respond_with_data("ok")
    rebound = HTTPServer(host="127.0.0.2", port=server.port)
    rebound.expect_request("/hook").respond_with_data("rebound")
    rebound.start()
    real_getaddrinfo = socket.getaddrinfo
    lookups = []

    def rebinding(host, port, *args, **kwargs):
        if host == "rebind.test":
            lookups.append(host)
            host = "127.0.0.1" if len(lookups) == 1 else "127.0.0.2"
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    try:
        allowlist = parse_allowlist(f"rebind.test:{server.port}")
        send(f"http://rebind.test:{server.port}/hook", new_secret(), "msg_1", BODY, allowlist=allowlist)
        assert lookups == ["rebind.test"]  # resolved once; the connection used the checked address
        assert len(server.log) == 1 and rebound.log == []
    finally:
        rebound.stop()


def test_the_host_header_is_the_url_host_though_the_connection_went_to_an_address(server):
    server.expect_request("/hook").respond_with_data("ok")
    allowlist = parse_allowlist(f"hooks.test:{server.port}")
    send(
        f"http://Hooks.Test:{server.port}/hook",
        new_secret(),
        "msg_1",
        BODY,
        allowlist=allowlist,
        getaddrinfo=loopback_dns,
    )
    assert only_request(server).headers["Host"] == f"hooks.test:{server.port}"


def test_an_ipv6_receiver_is_reached_by_its_bracketed_address():
    try:
        server = HTTPServer(host="::1", port=0)
        server.start()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        server.expect_request("/hook").respond_with_data("ok")
        allowlist = parse_allowlist(f"[::1]:{server.port}")
        assert send(f"http://[::1]:{server.port}/hook", new_secret(), "msg_1", BODY, allowlist=allowlist) == 200
        assert only_request(server).headers["Host"] == f"[::1]:{server.port}"
    finally:
        server.stop()


# --- TLS -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """A test CA (ca.pem) and a certificate for hooks.test signed by it (leaf.pem, leaf.key)."""
    return certificate_authority(tmp_path_factory.mktemp("tls"), {"leaf": "hooks.test"})


@pytest.fixture(scope="module")
def tls_server(tls):
    """An https receiver on 127.0.0.1 presenting the hooks.test certificate; ``.sni`` lists names asked for."""
    context = server_context(tls, "leaf")
    names = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context, threaded=True)
    server.start()
    server.sni = names
    yield server
    server.stop()


@pytest.fixture
def tls_receiver(tls_server):
    tls_server.clear()
    tls_server.sni.clear()
    yield tls_server
    tls_server.clear()


def test_https_checks_the_certificate_against_the_url_name_while_connecting_to_the_address(
    tls, tls_receiver, monkeypatch
):
    monkeypatch.setattr(webhook, "_CA_CERTS", str(tls / "ca.pem"))
    tls_receiver.expect_request("/hook").respond_with_data("ok")
    port = tls_receiver.port
    secret = new_secret()

    status = send(
        f"https://hooks.test:{port}/hook",
        secret,
        "msg_1",
        BODY,
        allowlist=parse_allowlist(f"hooks.test:{port}"),
        getaddrinfo=loopback_dns,
    )

    assert status == 200
    request = only_request(tls_receiver)
    assert request.headers["Host"] == f"hooks.test:{port}"
    assert tls_receiver.sni == ["hooks.test"]
    Webhook(secret).verify(request.get_data(), dict(request.headers))


def test_https_refuses_a_certificate_for_another_name(tls, tls_receiver, monkeypatch):
    monkeypatch.setattr(webhook, "_CA_CERTS", str(tls / "ca.pem"))
    port = tls_receiver.port
    allowlist = parse_allowlist(f"other.test:{port}")
    with pytest.raises(WebhookError, match=rf"TLS with other\.test:{port} \(127\.0\.0\.1\) failed: .*hooks\.test"):
        send(
            f"https://other.test:{port}/hook",
            new_secret(),
            "msg_1",
            BODY,
            allowlist=allowlist,
            getaddrinfo=loopback_dns,
        )
    assert tls_receiver.log == []


def test_https_refuses_an_untrusted_certificate(tls_receiver):
    port = tls_receiver.port
    allowlist = parse_allowlist(f"hooks.test:{port}")
    with pytest.raises(WebhookError, match="certificate verify failed"):
        send(
            f"https://hooks.test:{port}/hook",
            new_secret(),
            "msg_1",
            BODY,
            allowlist=allowlist,
            getaddrinfo=loopback_dns,
        )
    assert tls_receiver.log == []


def test_the_body_sent_is_exactly_the_payload_bytes(server, allowlist):
    server.expect_request("/hook").respond_with_data("ok")
    send(server.url_for("/hook"), new_secret(), "msg_1", BODY, allowlist=allowlist)
    assert json.loads(only_request(server).get_data()) == json.loads(BODY)


# --- a whole attempt has a deadline ----------------------------------------------------------------


@pytest.fixture
def trickler():
    made = []

    def make(phase: str, **options) -> Trickler:
        made.append(Trickler(phase, **options))
        return made[-1]

    yield make
    for one in made:
        one.close()


@pytest.mark.timeout(20)  # before: the trickle held the attempt for its whole minute
@pytest.mark.parametrize("phase", ["status", "headers"])
def test_a_receiver_that_trickles_its_answer_is_cut_off_at_the_attempts_deadline(trickler, phase):
    slow = trickler(phase)
    allowlist = parse_allowlist(f"127.0.0.1:{slow.port}")
    started = time.monotonic()
    with pytest.raises(
        WebhookError, match=rf"timed out after 1 s \(the whole attempt\) waiting for 127\.0\.0\.1:{slow.port}"
    ):
        send(slow.url(), new_secret(), "msg_1", BODY, allowlist=allowlist, read_timeout=0.5, deadline=1.0)
    assert time.monotonic() - started < 4  # 1 s, and slack for a busy machine
    assert slow.requests == 1


@pytest.mark.timeout(20)
def test_a_2xx_whose_body_trickles_counts_as_delivered_and_the_body_is_cut_off(trickler, server, allowlist):
    slow = trickler("body")
    started = time.monotonic()
    status = send(
        slow.url(), new_secret(), "msg_1", BODY, allowlist=parse_allowlist(f"127.0.0.1:{slow.port}"), deadline=1.0
    )
    assert status == 200 and time.monotonic() - started < 4
    # The cut-off connection is not handed to the next delivery.
    server.expect_request("/hook").respond_with_data("ok")
    assert send(server.url_for("/hook"), new_secret(), "msg_2", BODY, allowlist=allowlist, deadline=1.0) == 200


@pytest.mark.timeout(20)
def test_a_tls_receiver_that_trickles_is_cut_off_too(tls, trickler, monkeypatch):
    monkeypatch.setattr(webhook, "_CA_CERTS", str(tls / "ca.pem"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls / "leaf.pem", tls / "leaf.key")
    slow = trickler("headers", ssl_context=context)
    started = time.monotonic()
    with pytest.raises(WebhookError, match=r"timed out after 1 s \(the whole attempt\)"):
        send(
            slow.url("https", "hooks.test"),
            new_secret(),
            "msg_1",
            BODY,
            allowlist=parse_allowlist(f"hooks.test:{slow.port}"),
            getaddrinfo=loopback_dns,
            read_timeout=0.5,
            deadline=1.0,
        )
    assert time.monotonic() - started < 4 and slow.requests == 1


@pytest.mark.timeout(20)
def test_a_tls_handshake_that_trickles_ends_within_the_deadline_too(trickler):
    slow = trickler("handshake")
    started = time.monotonic()
    with pytest.raises(WebhookError, match="timed out after"):  # the handshake's own limit, or the watchdog
        send(
            slow.url("https", "hooks.test"),
            new_secret(),
            "msg_1",
            BODY,
            allowlist=parse_allowlist(f"hooks.test:{slow.port}"),
            getaddrinfo=loopback_dns,
            connect_timeout=3.0,
            deadline=1.0,
        )
    assert time.monotonic() - started < 4


@pytest.mark.timeout(20)
def test_a_name_server_that_never_answers_costs_no_more_than_the_deadline(allowlist):
    def silent(*args, **kwargs):
        time.sleep(30)

    started = time.monotonic()
    with pytest.raises(
        WebhookError, match=r"webhook host 'hooks\.example\.com' does not resolve: no answer within 1 s"
    ):
        send("https://hooks.example.com/hook", new_secret(), "msg_1", BODY, getaddrinfo=silent, deadline=1.0)
    assert time.monotonic() - started < 4
