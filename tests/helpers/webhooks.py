"""Webhook receivers on loopback: one that verifies what it gets as a subscriber would, and one that trickles.

Signatures are verified with the ``standardwebhooks`` library, never with policywatch's own code.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time

from pytest_httpserver import HTTPServer
from standardwebhooks import Webhook
from werkzeug import Request, Response


@contextlib.contextmanager
def webhook_receiver(monkeypatch):
    """A webhook receiver on loopback (threaded: a slow endpoint must not hold up the others)."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    monkeypatch.setenv("WEBHOOK_HTTP_ALLOWLIST", f"127.0.0.1:{server.port}")
    try:
        yield server
    finally:
        server.clear()
        server.stop()


def verifying(secret: str, received: list, status: int = 204):
    """A receiver handler that verifies the signature with standardwebhooks, as a subscriber would."""

    def handle(request: Request) -> Response:
        payload = Webhook(secret).verify(request.get_data(), dict(request.headers))
        received.append({"headers": dict(request.headers), "payload": payload})
        return Response("", status=status)

    return handle


class Trickler:
    """A receiver that reads the request, then answers one byte at a time, each well inside any read timeout.

    ``phase``: what it trickles: "handshake" (a TLS record the client's handshake waits for),
    "status" (the status line itself), "headers" (an endless header line after "200 OK") or
    "body" (a complete 200 with a 1 MB body). It stops when the client goes, or after a minute.
    """

    def __init__(self, phase: str, every: float = 0.05, ssl_context: ssl.SSLContext | None = None) -> None:
        self.phase, self.every, self.ssl_context = phase, every, ssl_context
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.requests = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, scheme: str = "http", host: str = "127.0.0.1") -> str:
        return f"{scheme}://{host}:{self.port}/hook"

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = self.listener.accept()
                threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            if self.phase == "handshake":  # a TLS record that never ends: the client's handshake waits for it
                connection.recv(65536)  # the ClientHello
                connection.sendall(b"\x16\x03\x03\x40\x00")
                self._trickle(connection, b"\x02")
                return
            if self.ssl_context:
                connection = self.ssl_context.wrap_socket(connection, server_side=True)
            received = b""
            while b"\r\n\r\n" not in received:
                received += connection.recv(65536)
            head, _, body = received.partition(b"\r\n\r\n")
            length = int(
                next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
            )
            while len(body) < length:
                body += connection.recv(65536)
            self.requests += 1
            first = {
                "status": b"",
                "headers": b"HTTP/1.1 200 OK\r\nX-Slow: ",
                "body": b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n",
            }[self.phase]
            connection.sendall(first)
            self._trickle(connection, b"HTTP/1.1 200 OK" if self.phase == "status" else b"x")

    def _trickle(self, connection: socket.socket, first: bytes) -> None:
        ends = time.monotonic() + 60
        while time.monotonic() < ends:
            for byte in first:
                connection.sendall(bytes([byte]))
                time.sleep(self.every)
            first = b"x"

    def close(self) -> None:
        self.listener.close()
