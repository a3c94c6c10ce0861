"""Where and how the fetcher connects: the address rules for every hop, and the fetch deadline.

Policy URLs come from the catalog (or the operator's override) and redirects from the
sites: input we do not control, fetched from inside our AWS account, so every hop is held
to the outbound address rules of ``policywatch.core.outbound``. ``check_hop`` resolves the host once and
refuses the hop if any address it resolves to is not public (loopback, private, link-local
and cloud metadata, CGNAT...); the connection then goes to a checked address, never to the
name again, so a DNS answer that changes between the check and the connect (rebinding)
cannot move it, while SNI, the certificate check and the Host header still name the host.
Plain http is refused, and a redirect never goes from https to http. Only ``host:port``
entries on the operator's FETCH_ALLOWLIST (the local demo site, tests) may use http and
private addresses. Environment proxies are ignored: a proxy would resolve the name itself.

The deadline is a ``Watchdog`` (``policywatch.core.watchdog``): at the deadline it shuts down every
socket the fetch opened.
A socket timeout bounds one ``recv``, not a response: http.client reads the status line and
headers line by line through a buffered file, and a body with a Content-Length or ending at
connection close in 64 KiB reads that only return when full, so a server sending a byte
every few seconds keeps any of them going for hours. Resetting the timeout before every
``recv`` would mean reaching into http.client and ssl; ``shutdown(2)`` instead wakes any
blocked read at once, in every phase (TLS handshake, headers, body), whatever layer reads.
The watchdog holds a duplicate of each socket, taken as soon as it is connected: it still
reaches the connection after TLS wrapping has taken over the original socket object, and
``shutdown`` acts on the connection, not on one descriptor. A body cut short this way can
look complete (one that ends at connection close just ends), so callers check ``expired``
after reading and discard what they read. Name resolution and the TCP connect happen
before there is a socket to guard; they are bounded by the resolver's own timeouts and
the connect timeout, shortened to the time left.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from requests import PreparedRequest
from requests.adapters import HTTPAdapter
from requests.exceptions import InvalidURL
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError

from policywatch.core.errors import InputError, TransientError
from policywatch.core.outbound import DEFAULT_PORTS, blocked_reason
from policywatch.core.watchdog import Watchdog

Resolver = Callable[..., list[tuple[Any, ...]]]


class Refused(InputError):
    """The hop breaks the address rules: trying again will not help. ``reason`` is one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unresolved(TransientError):
    """The hop's host name did not resolve (DNS may answer later)."""


@dataclass(frozen=True)
class Hop:
    """One checked request: connect to one of ``addresses``, speak to ``host``."""

    url: str  # as it is sent: host in IDNA, path quoted
    scheme: str
    host: str  # lower case; an IPv6 literal without brackets
    port: int
    addresses: tuple[str, ...]  # every one checked, in the resolver's order
    allowlisted: bool

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def allowlist_key(host: str, port: int) -> str:
    """``host:port`` as ``outbound.parse_allowlist`` writes its entries (IPv6 in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def check_hop(
    url: str,
    allowlist: frozenset[str] = frozenset(),
    *,
    redirected_from: str | None = None,
    getaddrinfo: Resolver | None = None,
) -> Hop:
    """Check ``url`` as the next request of a fetch, resolving its host once.

    Raises ``Refused`` (the reason names the rule and the address) or ``Unresolved``. One
    blocked address refuses the hop: a name answering both a public and a private address
    is an attack, not a misconfiguration. ``getaddrinfo`` defaults to ``socket.getaddrinfo``.
    """
    try:
        prepared = PreparedRequest()
        prepared.prepare_url(url, None)  # what requests will send: IDNA host, quoted path
        parts = urlsplit(prepared.url or "")
        port = parts.port
    except (ValueError, InvalidURL, UnicodeError) as error:
        raise Refused(f"not a valid URL ({type(error).__name__})") from None
    scheme, hostname = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not hostname:
        raise Refused("not an http(s) URL with a host")
    host = _normal_host(hostname)
    port = DEFAULT_PORTS[scheme] if port is None else port
    key = allowlist_key(host, port)
    allowlisted = key in allowlist
    if redirected_from is not None and urlsplit(redirected_from).scheme.lower() == "https" and scheme == "http":
        raise Refused("redirect from https to plain http refused")
    if _is_address(host):  # an IP address in the URL: its own rule says more than the http one
        _check_addresses(host, (host,), allowlisted)
    if scheme == "http" and not allowlisted:
        raise Refused(f"plain http to {key} refused (https only, unless the host is on FETCH_ALLOWLIST)")
    try:
        answers = (getaddrinfo or socket.getaddrinfo)(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise Unresolved(f"host name {host!r} did not resolve") from None
    addresses = tuple(dict.fromkeys(str(answer[4][0]) for answer in answers))
    if not addresses:
        raise Unresolved(f"host name {host!r} did not resolve")
    _check_addresses(host, addresses, allowlisted)
    return Hop(prepared.url or url, scheme, host, port, addresses, allowlisted)


def _check_addresses(host: str, addresses: tuple[str, ...], allowlisted: bool) -> None:
    if allowlisted:
        return
    for address in addresses:
        if reason := blocked_reason(address):
            named = "" if address == host else f"host {host!r} resolves to {address}: "
            raise Refused(f"{named}address {address} is {reason}; refused")


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _normal_host(host: str) -> str:
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        return host


if TYPE_CHECKING:  # a mixin of urllib3's connections: type-check it as one
    _Connection = HTTPConnection
else:
    _Connection = object


class _Guarded(_Connection):
    """A urllib3 connection to the hop's checked addresses (in order), guarded by the watchdog."""

    def __init__(self, *args: Any, watchdog: Watchdog, addresses: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._watchdog = watchdog
        self._addresses = addresses

    def _new_conn(self) -> socket.socket:
        connect_timeout = self.timeout
        failure: Exception = ConnectTimeoutError(self, "no time left to connect before the fetch deadline")
        for address in self._addresses:
            left = self._watchdog.deadline - time.monotonic()
            if left <= 0:
                break
            self._dns_host = address  # urllib3 connects to this; SNI and Host still name the host
            if isinstance(connect_timeout, int | float):
                self.timeout = min(connect_timeout, left)
            try:
                sock = super()._new_conn()
            except ConnectTimeoutError as error:  # NewConnectionError included: try the next address
                failure = error
                continue
            finally:
                self.timeout = connect_timeout
            self._watchdog.guard(sock, phase="waiting for the response")
            return sock
        raise failure


class _GuardedHTTPConnection(_Guarded, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_Guarded, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class PinnedAdapter(HTTPAdapter):
    """A requests adapter that sends each request to the addresses of the hop given to ``pin``.

    A request for any other scheme, host or port than the pinned hop's is refused, so
    nothing reaches the network unchecked.
    """

    def __init__(self, watchdog: Watchdog) -> None:
        super().__init__()
        self._watchdog = watchdog
        self._hop: Hop | None = None
        self._pool: HTTPConnectionPool | None = None

    def pin(self, hop: Hop) -> None:
        """Send the next request to ``hop``'s addresses (closing the previous hop's connections)."""
        self._close_pool()
        self._hop = hop
        if hop.scheme == "https":
            self._pool = _HTTPSPool(
                hop.addresses[0],
                hop.port,
                maxsize=1,
                server_hostname=hop.host,
                assert_hostname=hop.host,
                watchdog=self._watchdog,
                addresses=hop.addresses,
            )
        else:
            self._pool = _HTTPPool(
                hop.addresses[0], hop.port, maxsize=1, watchdog=self._watchdog, addresses=hop.addresses
            )

    def get_connection_with_tls_context(
        self, request: PreparedRequest, verify: Any, proxies: Any = None, cert: Any = None
    ) -> HTTPConnectionPool:
        hop, pool = self._hop, self._pool
        parts = urlsplit(request.url or "")
        scheme = parts.scheme.lower()
        target = (scheme, _normal_host(parts.hostname or ""), parts.port or DEFAULT_PORTS.get(scheme))
        if hop is None or pool is None or target != (hop.scheme, hop.host, hop.port):
            raise InvalidURL("request for a host that was not checked")
        return pool

    def add_headers(self, request: PreparedRequest, **kwargs: Any) -> None:
        if self._hop is not None:
            request.headers["Host"] = self._hop.host_header

    def close(self) -> None:
        self._close_pool()
        super().close()

    def _close_pool(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        self._watchdog.release()
