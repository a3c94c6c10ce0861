"""The watchdog: a deadline no guarded socket outlives, plain or TLS, however it is blocked."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time

from policywatch.core.watchdog import Watchdog
from tests.helpers.tls import certificate_authority, server_context


def test_the_watchdog_wakes_a_blocked_read_and_guards_sockets_connected_after_it_struck():
    left, right = socket.socketpair()
    with left, right, Watchdog(time.monotonic() + 0.3) as watchdog:
        watchdog.guard(left, phase="waiting for the response")
        started = time.monotonic()
        assert left.recv(10) == b""  # woken by the shutdown, not by data
        assert 0.2 < time.monotonic() - started < 5 and watchdog.expired
        assert watchdog.expired_while == "waiting for the response"
        late, other = socket.socketpair()
        with late, other:
            watchdog.guard(late)
            assert late.recv(10) == b""


def test_a_phase_is_the_callers_and_stays_until_changed():
    left, right = socket.socketpair()
    with left, right, Watchdog(time.monotonic() + 60) as watchdog:
        assert watchdog.phase == "connecting"
        watchdog.guard(left)
        assert watchdog.phase == "connecting" and not watchdog.expired
        watchdog.phase = "reading the body"
        watchdog.guard(left, phase="waiting for the response")
        assert watchdog.phase == "waiting for the response"


def test_a_tls_read_blocked_inside_the_tls_layer_is_woken_through_its_descriptor(tmp_path):
    certificate_authority(tmp_path, {"server": "localhost"})
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[ssl.SSLSocket] = []

    def serve() -> None:  # completes the handshake, then says nothing
        conn, _ = listener.accept()
        accepted.append(server_context(tmp_path, "server").wrap_socket(conn, server_side=True))

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    client = ssl.create_default_context(cafile=str(tmp_path / "ca.pem")).wrap_socket(
        socket.create_connection(listener.getsockname()), server_hostname="localhost"
    )
    server.join(5)
    client.settimeout(10)  # unguarded, the read would end here, long past the deadline
    with listener, client, Watchdog(time.monotonic() + 0.3) as watchdog:
        watchdog.guard(client)  # an SSLSocket cannot be dup()ed: its descriptor is
        started = time.monotonic()
        with contextlib.suppress(ssl.SSLError, OSError):  # some OpenSSL versions report the shutdown so
            assert client.recv(10) == b""
        assert 0.2 < time.monotonic() - started < 5 and watchdog.expired
    for conn in accepted:
        conn.close()


def test_release_closes_the_duplicates_and_leaves_the_sockets_open():
    left, right = socket.socketpair()
    with left, right:
        with Watchdog(time.monotonic() + 60) as watchdog:
            watchdog.guard(left)
        right.sendall(b"ok")
        assert left.recv(2) == b"ok"  # the watchdog's exit closed only its duplicate
