"""The fetcher against hostile servers (issue 11, findings 5 and 7): real sockets, real TLS.

The servers are the reproductions of ``bench/hostile_fetch.py``: each sends a byte every
0.1 s, far inside the read timeout, so before the fix only the server decided when a fetch
ended (45 s for a 10 s deadline in the review, hours for these). Redirects and URLs that
lead to loopback, private or metadata addresses are refused before any connection is made.
"""

from __future__ import annotations

import socket
import time

import pytest
import requests.adapters
from pytest_httpserver import HTTPServer
from werkzeug import Response

from bench.hostile_fetch import (
    METADATA,
    Connections,
    internal_page,
    redirect_to,
    serve,
    slow_headers,
    trickled_chunks,
    trickled_known_length,
    trickled_until_close,
)
from policywatch.fetch import fetcher
from policywatch.fetch.fetcher import FetchError, RetryPolicy, fetch
from tests.helpers.tls import certificate_authority, server_context

HTML = b"<html><body><main><h1>Privacy Policy</h1><p>We keep little.</p></main></body></html>"
ONE_TRY = RetryPolicy(attempts=1)
CONNECTIONS = Connections()  # one audit hook for the session: hooks cannot be removed


def _allow(url: str) -> frozenset[str]:
    return frozenset({url.split("://", 1)[1].split("/", 1)[0]})


# --- the deadline holds whatever the server does ------------------------------------------


@pytest.mark.timeout(20)  # the fix takes 2 s; before it, these ran for minutes to hours
@pytest.mark.parametrize(
    ("respond", "phase"),
    [
        (slow_headers, "waiting for the response"),
        (trickled_known_length, "reading the body"),
        (trickled_until_close, "reading the body"),  # cut off, it would look complete: it must not be kept
        (trickled_chunks, "reading the body"),  # bounded before the fix too (each chunk is one read)
    ],
    ids=["slow-headers", "known-length", "until-close", "chunked"],
)
def test_a_trickling_server_is_cut_off_at_the_deadline(respond, phase):
    with serve(respond) as base:
        started = time.monotonic()
        with pytest.raises(FetchError) as caught:
            fetch(f"{base}/p", deadline=started + 2, timeout=(2, 5), retry=ONE_TRY, allowlist=_allow(base))
        elapsed = time.monotonic() - started
    error = caught.value
    assert error.retryable and error.retry_after is None
    assert error.reason == f"fetch deadline reached after 2 s while {phase}"
    assert 1.9 < elapsed < 8


@pytest.mark.timeout(20)
def test_a_call_without_a_deadline_is_still_bounded(monkeypatch):
    monkeypatch.setattr(fetcher, "DEFAULT_DEADLINE_SECONDS", 1.5)
    with serve(trickled_until_close) as base:
        started = time.monotonic()
        with pytest.raises(FetchError, match="fetch deadline reached after 1.5 s while reading the body"):
            fetch(f"{base}/p", retry=ONE_TRY, allowlist=_allow(base))
    assert time.monotonic() - started < 8


@pytest.mark.timeout(20)
def test_the_deadline_is_not_retried_past():
    """A retry policy with attempts left does not start another attempt after the deadline struck."""
    with serve(trickled_known_length) as base, pytest.raises(FetchError, match="fetch deadline reached") as caught:
        fetch(f"{base}/p", deadline=time.monotonic() + 1, retry=RetryPolicy(attempts=5), allowlist=_allow(base))
    assert caught.value.attempts == 1


@pytest.mark.timeout(10)
# --- every hop is checked -----------------------------------------------------------------


def test_a_redirect_to_the_metadata_address_is_refused_without_connecting():
    with serve(redirect_to(METADATA)) as base:
        before = CONNECTIONS.seen.count("169.254.169.254")
        with pytest.raises(FetchError) as caught:
            fetch(f"{base}/privacy", timeout=(1, 1), allowlist=_allow(base))
    error = caught.value
    assert not error.retryable and error.status == 302 and error.attempts == 1
    assert error.reason == (
        f"redirected to {METADATA}: address 169.254.169.254 is a link-local address "
        "(169.254.0.0/16; cloud metadata); refused"
    )
    assert CONNECTIONS.seen.count("169.254.169.254") == before


def test_a_redirect_to_another_port_of_loopback_is_refused_and_never_fetched():
    asked = []

    def internal(wire):
        asked.append(True)
        internal_page(wire)

    with serve(internal) as other, serve(redirect_to(f"{other}/admin")) as base, pytest.raises(FetchError) as caught:
        fetch(f"{base}/privacy", allowlist=_allow(base))
    assert not caught.value.retryable
    assert caught.value.reason == f"redirected to {other}/admin: address 127.0.0.1 is a loopback address; refused"
    assert asked == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://169.254.169.254/latest/", "address 169.254.169.254 is a link-local address"),
        ("https://[::ffff:10.0.0.1]/p", "address ::ffff:a00:1 is an IPv4-mapped address of 10.0.0.1, a private"),
        ("https://localhost:9/p", "host 'localhost' resolves to 127.0.0.1: address 127.0.0.1 is a loopback address"),
        ("http://127.0.0.1:9/p", "address 127.0.0.1 is a loopback address; refused"),
        ("http://policy.example/p", "plain http to policy.example:80 refused (https only, unless"),
    ],
)
def test_the_first_url_is_held_to_the_same_rules(url, reason):
    before = len(CONNECTIONS.seen)
    with pytest.raises(FetchError) as caught:
        fetch(url, getaddrinfo=_resolver({"localhost": ["127.0.0.1"]}))
    assert not caught.value.retryable and caught.value.attempts == 1
    assert caught.value.reason.startswith(reason)
    assert len(CONNECTIONS.seen) == before


def test_a_name_with_one_private_address_among_public_ones_is_refused():
    resolver = _resolver({"policy.example": ["93.184.215.14", "10.1.2.3"]})
    with pytest.raises(FetchError, match="host 'policy.example' resolves to 10.1.2.3: address 10.1.2.3 is a private"):
        fetch("https://policy.example/terms", getaddrinfo=resolver)


def test_a_name_that_does_not_resolve_is_retryable():
    with pytest.raises(FetchError, match="host name did not resolve") as caught:
        fetch("https://policy.example/terms", getaddrinfo=_resolver({}), sleep=lambda _: None)
    assert caught.value.retryable and caught.value.attempts == 3


def test_the_connection_goes_to_the_checked_address_never_to_the_name_again(httpserver, monkeypatch):
    """DNS rebinding: a second lookup could answer another address; there is none."""
    httpserver.expect_request("/p").respond_with_data(HTML, content_type="text/html")
    system_lookup = socket.getaddrinfo

    def refuse_the_name(host, *args, **kwargs):
        assert host != "policy.test", "the fetch looked the name up again"
        return system_lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", refuse_the_name)
    url = f"http://policy.test:{httpserver.port}/p"
    result = fetch(url, allowlist=_allow(url), getaddrinfo=_resolver({"policy.test": ["127.0.0.1"]}))
    assert result.body == HTML and result.final_url == url
    assert httpserver.log[-1][0].headers["Host"] == f"policy.test:{httpserver.port}"


def test_an_allowlisted_name_resolving_to_a_refused_address_is_tried_in_order(httpserver):
    """A name answering an address nobody listens on, then the right one, is still fetched."""
    httpserver.expect_request("/p").respond_with_data(HTML, content_type="text/html")
    url = f"http://policy.test:{httpserver.port}/p"
    resolver = _resolver({"policy.test": ["127.0.0.2", "127.0.0.1"]})  # nothing listens on 127.0.0.2
    assert fetch(url, allowlist=_allow(url), getaddrinfo=resolver).body == HTML


# --- TLS: SNI and the certificate name the host, the socket goes to the address --------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A test CA and certificates for policy.test and other.test signed by it (files)."""
    names = {"policy.test": "policy.test", "other.test": "other.test"}
    return certificate_authority(tmp_path_factory.mktemp("tls"), names)


@pytest.fixture
def tls_server(tls_files, monkeypatch):
    """An https server on 127.0.0.1 presenting ``name``'s certificate; records the SNI names it saw."""
    monkeypatch.setattr(requests.adapters, "DEFAULT_CA_BUNDLE_PATH", str(tls_files / "ca.pem"))
    servers = []

    def start(name: str) -> tuple[HTTPServer, list[str]]:
        context = server_context(tls_files, name)
        seen: list[str] = []
        context.sni_callback = lambda sock, server_name, ctx: seen.append(server_name)
        server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
        server.start()
        servers.append(server)
        return server, seen

    yield start
    for server in servers:
        server.clear()
        if server.is_running():
            server.stop()


def test_tls_names_the_host_while_the_socket_goes_to_the_checked_address(tls_server):
    server, sni = tls_server("policy.test")
    server.expect_request("/privacy").respond_with_data(HTML, content_type="text/html")
    url = f"https://policy.test:{server.port}/privacy"
    result = fetch(url, allowlist=_allow(url), getaddrinfo=_resolver({"policy.test": ["127.0.0.1"]}))
    assert result.body == HTML and result.final_url == url
    assert sni == ["policy.test"] and server.log[0][0].headers["Host"] == f"policy.test:{server.port}"


def test_a_certificate_for_another_name_is_refused(tls_server):
    server, _ = tls_server("other.test")
    server.expect_request("/privacy").respond_with_data(HTML, content_type="text/html")
    url = f"https://policy.test:{server.port}/privacy"
    with pytest.raises(FetchError, match="TLS handshake or certificate verification failed") as caught:
        fetch(url, allowlist=_allow(url), getaddrinfo=_resolver({"policy.test": ["127.0.0.1"]}))
    assert not caught.value.retryable and server.log == []


def test_a_redirect_from_https_to_http_is_refused_even_to_an_allowlisted_host(tls_server, httpserver):
    server, _ = tls_server("policy.test")
    plain = f"http://policy.test:{httpserver.port}/privacy"
    server.expect_request("/privacy").respond_with_response(Response(status=301, headers={"Location": plain}))
    url = f"https://policy.test:{server.port}/privacy"
    with pytest.raises(FetchError) as caught:
        fetch(url, allowlist=_allow(url) | _allow(plain), getaddrinfo=_resolver({"policy.test": ["127.0.0.1"]}))
    assert not caught.value.retryable and caught.value.status == 301
    assert caught.value.reason == f"redirected to {plain}: redirect from https to plain http refused"
    assert httpserver.log == []


def _resolver(names: dict[str, list[str]]):
    """A getaddrinfo answering ``names`` (and IP literals); any other name does not resolve."""

    def getaddrinfo(host, port, *args, **kwargs):
        try:
            addresses = names.get(host) or [socket.inet_ntop(*_literal(host))]
        except (OSError, ValueError):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses
        ]

    return getaddrinfo


def _literal(host: str) -> tuple[int, bytes]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return family, socket.inet_pton(family, host)
