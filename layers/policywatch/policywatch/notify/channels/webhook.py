"""Webhooks: sign a change with Standard Webhooks and POST it once to a subscriber's endpoint.

A delivery is signed with every secret the endpoint accepts now (``Endpoint.signing_secrets``:
the current one, and the previous one while a rotation's overlap lasts), one ``v1,<signature>``
each, so a receiver still holding the old secret verifies it too. ``send_test`` posts a signed
sample event, as a delivery would, and reports what happened in a line its owner understands.

One ``send`` is one attempt: redirects are not followed and nothing is retried here (the
notify queue retries, with the same ``webhook-id`` so receivers can drop duplicates). The
connection goes to the address ``outbound.resolve`` checked, never to the name again, so a
DNS answer that changes between the check and the connect (rebinding) cannot redirect it.

An attempt has a deadline as a whole (resolving, connecting, TLS, sending, the answer), not
only per read: a receiver that sends a byte just inside the read timeout would otherwise hold
a worker as long as it liked. A watchdog shuts the attempt's socket down when time is up, and
the name lookup is waited for only as long as the attempt has left.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import certifi
import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from policywatch.core import clock
from policywatch.core.errors import InternalError, TransientError
from policywatch.core.outbound import DEFAULT_PORTS, AddressError, Target, resolve
from policywatch.core.watchdog import Watchdog
from policywatch.subscribers import Endpoint
from policywatch.subscribers.secrets import validate_secret

MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "policywatch-webhooks/1.0"
EVENT_TYPE = "policy.changed"
TEST_EVENT_TYPE = "policywatch.test"
_REDIRECTS = (301, 302, 303, 307, 308)

DEFAULT_DEADLINE_SECONDS = 10.0
_CA_CERTS = certifi.where()  # the same trust store as requests (and the fetcher)


_current = threading.local()  # the attempt in progress on this thread: one send per thread at a time


@contextlib.contextmanager
def _attempt(watchdog: Watchdog) -> Iterator[None]:
    """``watchdog`` is the one the connections of this thread's attempt report their sockets to."""
    _current.watchdog = watchdog
    try:
        yield
    finally:
        _current.watchdog = None


def _watch(sock: socket.socket | None) -> None:
    watchdog = getattr(_current, "watchdog", None)
    if watchdog is not None and sock is not None:
        if watchdog.expired:
            raise TimeoutError("the attempt's deadline passed")
        watchdog.guard(sock)


class _Watched:
    """Connection mixin: every socket it opens, and the one each request reuses, is the attempt's to shut."""

    def _new_conn(self) -> socket.socket:
        # Plain http: this is the socket read from. Under TLS it is handed over to the TLS socket,
        # whose handshake CPython bounds as a whole by the socket timeout (no more than the time left).
        sock = super()._new_conn()  # type: ignore[misc]
        _watch(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)  # type: ignore[attr-defined]
        super().request(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_Watched, HTTPConnection):
    pass


class _HTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


# Shared by every call (and thread) in the process so repeated deliveries to one receiver reuse
# a kept-alive connection. Pools are keyed by address, port and TLS name, so a connection made
# for one host name is never reused for another. block=False: beyond maxsize, open and discard.
_POOLS = urllib3.PoolManager(num_pools=100, maxsize=50, block=False)
_POOLS.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


class WebhookError(TransientError):
    """Delivery failed; ``reason`` is a one-line description (no secrets), ``status`` the HTTP status if any."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def payload(change: dict[str, Any]) -> bytes:
    """The Standard Webhooks body for a change record: {"type", "timestamp", "data"}, compact UTF-8 JSON."""
    if "detected_at" not in change:
        raise InternalError("change record has no 'detected_at'")
    body = {"type": EVENT_TYPE, "timestamp": change["detected_at"], "data": change}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signed_headers(
    secret: str | Sequence[str], message_id: str, body: bytes, now: datetime | None = None
) -> dict[str, str]:
    """The Standard Webhooks headers for one attempt (the timestamp is fresh for every attempt).

    Several secrets (a rotation's overlap) give one ``v1,<signature>`` each, space-separated,
    as the specification allows: a receiver holding any one of them verifies the message.
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    from standardwebhooks import Webhook  # here: only webhook deliveries sign

    text = body.decode("utf-8")
    signatures = [Webhook(each).sign(message_id, moment, text) for each in _secrets(secret)]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": " ".join(dict.fromkeys(signatures)),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }


def _secrets(secret: str | Sequence[str]) -> tuple[str, ...]:
    return (secret,) if isinstance(secret, str) else tuple(secret)


def send(
    url: str,
    secret: str | Sequence[str],
    message_id: str,
    body: bytes,
    *,
    allowlist: frozenset[str] = frozenset(),
    connect_timeout: float = 3.0,
    read_timeout: float = 10.0,
    deadline: float = DEFAULT_DEADLINE_SECONDS,
    getaddrinfo: Callable[..., list[tuple[Any, ...]]] | None = None,
    now: datetime | None = None,
) -> int:
    """POST ``body`` signed with ``secret`` (one, or several) to ``url`` once; the 2xx status, or WebhookError.

    ``deadline``: seconds for the whole attempt, however the receiver trickles its answer.
    ``getaddrinfo`` defaults to ``socket.getaddrinfo`` looked up at call time.
    """
    signing = _secrets(secret)
    try:
        if not signing:
            raise ValueError("no webhook secret to sign with")
        for each in signing:
            validate_secret(each)
    except ValueError as error:
        raise WebhookError(str(error)) from None
    ends = time.monotonic() + deadline
    try:
        target = resolve(url, allowlist, getaddrinfo, timeout=deadline)
    except AddressError as error:
        raise WebhookError(str(error)) from error
    try:
        headers = signed_headers(signing, message_id, body, now)
    except UnicodeDecodeError:
        raise WebhookError("webhook body is not UTF-8") from None
    headers["Host"] = _host_header(target)

    left = max(ends - time.monotonic(), 0.001)
    pool = _POOLS.connection_from_host(target.address, target.port, target.scheme, pool_kwargs=_tls(target))
    with Watchdog(time.monotonic() + left) as watchdog, _attempt(watchdog):
        try:
            response = pool.urlopen(
                "POST",
                target.path,
                body=body,
                headers=headers,
                redirect=False,
                retries=False,
                timeout=urllib3.Timeout(connect=min(connect_timeout, left), read=min(read_timeout, left)),
                preload_content=False,
                release_conn=False,
            )
        except (HTTPError, OSError) as error:
            if watchdog.expired:
                raise WebhookError(_too_slow(target, deadline)) from error
            raise WebhookError(_failure(error, target, connect_timeout, read_timeout)) from error
        try:
            if watchdog.expired:  # the answer may have been cut short: its status proves nothing
                raise WebhookError(_too_slow(target, deadline))
            return _outcome(response)
        finally:
            _discard_body(response)  # still under the watchdog: a trickled body is cut off too


@dataclass(frozen=True)
class TestOutcome:
    """What a test event met: ``reason`` is one line for the endpoint's owner ("HTTP 200 in 45 ms"), no secret."""

    __test__ = False  # not a pytest test class, despite its name

    ok: bool
    status: int | None  # the receiver's HTTP status, if it answered
    reason: str
    message_id: str  # the test's ``webhook-id``, to find it in the receiver's logs


def sample_event(now: datetime | None = None) -> bytes:
    """A test event's body: a change event's shape, saying it is a test, of type ``policywatch.test``."""
    moment = clock.iso(now)
    data = {
        "test": True,
        "schema_version": "2",
        "change_id": secrets.token_hex(12),
        "platform": "policywatch",
        "platform_name": "policywatch (test event)",
        "document": "privacy-policy",
        "document_type": "Privacy Policy",
        "detected_at": moment,
        "kind": "substantive",
        "alert": True,
        "severity": "low",
        "direction": "neutral",
        "categories": [],
        "summary": "This is a test event sent from your policywatch settings: no policy changed.",
        "effective_date": None,
    }
    body = {"type": TEST_EVENT_TYPE, "timestamp": moment, "data": data}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def send_test(
    endpoint: Endpoint,
    *,
    allowlist: frozenset[str],
    now: datetime | None = None,
    getaddrinfo: Callable[..., list[tuple[Any, ...]]] | None = None,
    connect_timeout: float = 3.0,
    read_timeout: float = 10.0,
    deadline: float = DEFAULT_DEADLINE_SECONDS,
) -> TestOutcome:
    """POST a signed test event to ``endpoint`` once, as a delivery would go; never raises for the receiver's failures."""
    moment = now or clock.now()
    message_id = "msg_test_" + secrets.token_hex(12)
    started = time.monotonic()
    try:
        status = send(
            endpoint.url,
            endpoint.signing_secrets(moment),
            message_id,
            sample_event(moment),
            allowlist=allowlist,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            deadline=deadline,
            getaddrinfo=getaddrinfo,
            now=moment,
        )
    except WebhookError as error:
        return TestOutcome(False, error.status, _test_failure(error), message_id)
    elapsed = round((time.monotonic() - started) * 1000)
    return TestOutcome(True, status, f"HTTP {status} in {elapsed} ms", message_id)


def _test_failure(error: WebhookError) -> str:
    if error.status is None:  # refused, unreachable, too slow: the reason says which
        return error.reason
    if error.status in _REDIRECTS:
        return f"the receiver {error.reason}"
    return f"the receiver answered HTTP {error.reason.removeprefix('answered ')}"


def _tls(target: Target) -> dict[str, Any]:
    if target.scheme != "https":
        return {}
    # The socket goes to the checked address; SNI and certificate checks use the URL's host name.
    return {
        "server_hostname": target.host,
        "assert_hostname": target.host,
        "cert_reqs": "CERT_REQUIRED",
        "ca_certs": _CA_CERTS,
    }


def _host_header(target: Target, *, always_port: bool = False) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    if target.port == DEFAULT_PORTS[target.scheme] and not always_port:
        return host
    return f"{host}:{target.port}"


def _outcome(response: urllib3.BaseHTTPResponse) -> int:
    status = response.status
    if 200 <= status < 300:
        return status
    if status in _REDIRECTS:
        location = response.headers.get("Location")
        where = f"to {_one_line(location, 200)}" if location else "without a Location"
        raise WebhookError(f"redirected ({status}) {where}; redirects are not followed", status)
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = _one_line(response.reason or "", 100)
    raise WebhookError(f"answered {status} {phrase}".rstrip(), status)


def _failure(error: HTTPError | OSError, target: Target, connect_timeout: float, read_timeout: float) -> str:
    where = f"{_host_header(target, always_port=True)} ({target.address})"
    # NewConnectionError is a subclass of ConnectTimeoutError: test it first.
    if isinstance(error, NewConnectionError):
        return f"could not connect to {where}: {_one_line(error.__cause__ or error)}"
    if isinstance(error, ConnectTimeoutError):
        return f"could not connect to {where}: timed out after {connect_timeout} s (connect)"
    if isinstance(error, ReadTimeoutError):
        return f"timed out after {read_timeout} s (read) waiting for {where}"
    if isinstance(error, SSLError):
        return f"TLS with {where} failed: {_one_line(error.__cause__ or error)}"
    if isinstance(error, ProtocolError):
        return f"connection to {where} failed: {_one_line(error)}"
    return f"request to {where} failed: {_one_line(error)}"


def _too_slow(target: Target, deadline: float) -> str:
    where = f"{_host_header(target, always_port=True)} ({target.address})"
    return f"timed out after {deadline:g} s (the whole attempt) waiting for {where}"


def _discard_body(response: urllib3.BaseHTTPResponse) -> None:
    """Read at most 64 KiB of the answer so the connection can be reused; else close it."""
    # The status is what counts; a broken or slow body only costs the connection.
    with contextlib.suppress(HTTPError, OSError):
        response.read(MAX_RESPONSE_BYTES, decode_content=False)
    if not response.closed:
        response.close()  # unread data left: this connection cannot carry another request
    response.release_conn()


def _one_line(value: object, limit: int = 300) -> str:
    return " ".join(str(value).split())[:limit]
