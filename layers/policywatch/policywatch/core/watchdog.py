"""A deadline that no socket outlives: what bounds a fetch and a webhook attempt as a whole.

Socket timeouts bound each wait, not the sum: a server that trickles one byte a second, or a
TLS handshake fed slowly, keeps a connection alive far past any deadline. A ``Watchdog`` holds a
timer; when the deadline passes it shuts down every socket it guards, whatever each is waiting
for, and the blocked read or write returns at once with an error the caller reads as "too slow".
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time


class Watchdog:
    """Shuts down every socket it guards once ``deadline`` (a ``time.monotonic()`` value) passes.

    ``phase`` is set by the caller ("reading the body"...) so that ``expired_while`` can say
    where the deadline struck; ``expired`` says whether it did. Use as a context manager: on exit
    the timer stops and the guarded sockets are released.
    """

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.phase = "connecting"
        self.expired_while = ""  # the phase when the deadline struck
        self._lock = threading.Lock()
        self._guarded: list[socket.socket] = []
        self._expired = False
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        self.release()

    @property
    def expired(self) -> bool:
        return self._expired

    def guard(self, sock: socket.socket, *, phase: str | None = None) -> None:
        """Watch ``sock`` (plain or TLS) until ``release``, and shut it down now if the deadline passed.

        What is kept is a duplicate of its file descriptor, as a plain socket: shutting that down
        ends the connection under any TLS layer (whose object another thread may be inside), and
        a descriptor the connection's owner closes and the system reuses is never touched.
        """
        duplicate = socket.socket(sock.family, sock.type, sock.proto, fileno=os.dup(sock.fileno()))
        with self._lock:
            if phase:
                self.phase = phase
            self._guarded.append(duplicate)
            if self._expired:
                _shut(duplicate)

    def release(self) -> None:
        """Forget the sockets guarded so far (their requests are over) and close the duplicates."""
        with self._lock:
            guarded, self._guarded = self._guarded, []
        for duplicate in guarded:
            duplicate.close()

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            self.expired_while = self.phase
            for duplicate in self._guarded:
                _shut(duplicate)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the peer, or never fully connected
        sock.shutdown(socket.SHUT_RDWR)
