"""Hostile servers for the fetcher (issue 11, findings 5 and 7): real sockets on 127.0.0.1.

Deadline cases: a server that sends its headers, a body of known length, a body ending at
connection close or a chunked body a byte at a time, each byte well within the read
timeout, so only an overall deadline (3 s here) ends the fetch. (A TLS handshake is no such
case: CPython already bounds the whole handshake by the socket timeout.) Address
cases: a page on the allowlisted demo server redirects to the cloud metadata address, or
to another port of the loopback interface. Every connection the process attempts is seen
through the ``socket.connect`` audit event, so a refused redirect provably connected nowhere.

``tests/integration/fetch/test_fetch_hostile.py`` runs the same servers as regression tests.
"""

from __future__ import annotations

import contextlib
import inspect
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable, Iterator

from policywatch.fetch import fetcher
from policywatch.fetch.fetcher import FetchError, RetryPolicy

DEADLINE = 3.0  # seconds given to each fetch
STEP = 0.1  # seconds between two bytes: far inside any read timeout
METADATA = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"

Respond = Callable[["Wire"], None]


class Wire:
    """The server's side of one connection."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def trickle(self, data: bytes, step: float = STEP) -> None:
        for byte in data:
            self.sock.sendall(bytes([byte]))
            time.sleep(step)

    def trickle_forever(self, unit: bytes, step: float = STEP) -> None:
        while True:
            self.trickle(unit, step)


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.settimeout(5)
        with contextlib.suppress(OSError):  # the client hung up: that is the point
            self.request.recv(65536)  # the request (an HTTP client sends it before reading)
            self.server.respond(Wire(self.request))  # type: ignore[attr-defined]


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextlib.contextmanager
def serve(respond: Respond) -> Iterator[str]:
    """A server on 127.0.0.1 answering every connection with ``respond``; yields its base URL."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.respond = respond  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# --- the responses --------------------------------------------------------------------------


def slow_headers(wire: Wire) -> None:
    wire.send(b"HTTP/1.1 200 OK\r\n")
    for n in range(100):
        wire.trickle(f"X-Wait-{n:03d}: .\r\n".encode())


def trickled_known_length(wire: Wire) -> None:
    wire.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n<html><body><main>")
    wire.trickle_forever(b"<p>Policy text.</p>")


def trickled_until_close(wire: Wire) -> None:
    wire.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<html><body><main>")
    wire.trickle_forever(b"<p>Policy text.</p>")


def trickled_chunks(wire: Wire) -> None:
    wire.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
    while True:
        wire.send(b"1\r\nx\r\n")
        time.sleep(STEP)


def redirect_to(location: str) -> Respond:
    def respond(wire: Wire) -> None:
        wire.send(f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode())

    return respond


def internal_page(wire: Wire) -> None:
    body = b"<html><body><main><h1>Internal admin</h1><p>token=hunter2</p></main></body></html>"
    wire.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


# --- fetching -------------------------------------------------------------------------------


class Connections:
    """Addresses the process tried to connect to, from the ``socket.connect`` audit event."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple) -> None:
        if event == "socket.connect" and isinstance(args[1], tuple):
            self.seen.append(str(args[1][0]))


def allowlisted(url: str) -> frozenset[str]:
    return frozenset({url.split("://", 1)[1].split("/", 1)[0]})


def fetch(url: str, allow: str | None = None, **kwargs) -> fetcher.FetchResult:
    """The fetcher with a 3 s deadline and one attempt; ``allow`` (a URL) is allowlisted if fetch takes one."""
    kwargs = {"deadline": time.monotonic() + DEADLINE, "timeout": (2, 5), "retry": RetryPolicy(attempts=1), **kwargs}
    if "allowlist" in inspect.signature(fetcher.fetch).parameters:  # the code before the fix has no allowlist
        kwargs.setdefault("allowlist", allowlisted(allow or url))
    return fetcher.fetch(url, **kwargs)


def outcome(call: Callable[[], fetcher.FetchResult]) -> str:
    started = time.monotonic()
    try:
        result = call()
    except FetchError as error:
        kind = "retryable" if error.retryable else "final"
        return f"fetch failed ({kind}) after {time.monotonic() - started:.1f} s: {error.reason}"
    return f"fetched HTTP {result.status}, {len(result.body)} bytes from {result.final_url}"


def _deadline_case(respond: Respond) -> Callable[[], str]:
    def case() -> str:
        with serve(respond) as base:
            return outcome(lambda: fetch(f"{base}/privacy"))

    return case


def redirect_to_metadata() -> str:
    connections = Connections()
    with serve(redirect_to(METADATA)) as base:
        result = outcome(lambda: fetch(f"{base}/privacy", timeout=(1, 1)))
    return f"{result}; connections to 169.254.169.254: {connections.seen.count('169.254.169.254')}"


def redirect_to_loopback() -> str:
    with serve(internal_page) as internal, serve(redirect_to(f"{internal}/admin")) as base:
        return outcome(lambda: fetch(f"{base}/privacy"))


CASES = [
    ("fetch-slow-headers", _deadline_case(slow_headers)),
    ("fetch-trickle-known-length", _deadline_case(trickled_known_length)),
    ("fetch-trickle-until-close", _deadline_case(trickled_until_close)),
    ("fetch-trickle-chunked", _deadline_case(trickled_chunks)),
    ("fetch-redirect-to-metadata", redirect_to_metadata),
    ("fetch-redirect-to-loopback", redirect_to_loopback),
]
