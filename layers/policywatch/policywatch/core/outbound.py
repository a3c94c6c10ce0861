"""Where a webhook may be sent: the SSRF rules for subscriber-supplied URLs.

Subscribers choose webhook URLs and we POST to them from inside our AWS account, so a URL
naming 169.254.169.254 (instance metadata), a private address, or a name resolving to one
would make the channel a probe of our network. ``check_url`` applies the static rules (a
name such as ``localhost`` or one under ``.internal`` is refused before any lookup);
``check_registration`` adds a lookup when an endpoint is registered, so a name answering a
private address is refused while its owner is there to read why; ``resolve`` resolves the name
once at delivery time, checks every address, and returns the one to connect to (connecting by
name again would allow DNS rebinding). The only I/O is DNS, through an injectable resolver.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any
from urllib.parse import SplitResult, urlsplit

from policywatch.core.errors import InputError

MAX_URL_LENGTH = 2048
DEFAULT_PORTS = {"https": 443, "http": 80}
REGISTRATION_LOOKUP_SECONDS = 5.0  # a person is waiting for the answer when an endpoint is registered

IPAddress = IPv4Address | IPv6Address


class AddressError(InputError):
    """A webhook URL or the address it resolves to is not allowed; the message names what and why."""


def _ranges(*pairs: tuple[str, str]) -> tuple[tuple[IPv4Network | IPv6Network, str], ...]:
    return tuple((ipaddress.ip_network(network), reason) for network, reason in pairs)


# Most specific first: the first match gives the reason.
_IPV4_BLOCKED = _ranges(
    ("0.0.0.0/32", "an unspecified address"),
    ("0.0.0.0/8", "a 'this network' address (0.0.0.0/8)"),
    ("127.0.0.0/8", "a loopback address"),
    ("10.0.0.0/8", "a private address (RFC 1918)"),
    ("172.16.0.0/12", "a private address (RFC 1918)"),
    ("192.168.0.0/16", "a private address (RFC 1918)"),
    ("100.64.0.0/10", "a shared address (CGNAT, 100.64.0.0/10)"),
    ("169.254.0.0/16", "a link-local address (169.254.0.0/16; cloud metadata)"),
    ("192.0.0.0/24", "an IETF protocol assignment address (192.0.0.0/24)"),
    ("192.0.2.0/24", "a documentation address"),
    ("198.51.100.0/24", "a documentation address"),
    ("203.0.113.0/24", "a documentation address"),
    ("192.88.99.0/24", "a 6to4 relay anycast address (192.88.99.0/24, deprecated)"),
    ("198.18.0.0/15", "a benchmarking address (198.18.0.0/15)"),
    ("224.0.0.0/4", "a multicast address"),
    ("255.255.255.255/32", "the broadcast address"),
    ("240.0.0.0/4", "a reserved address (240.0.0.0/4)"),
)
_IPV6_BLOCKED = _ranges(
    ("::/128", "an unspecified address"),
    ("::1/128", "a loopback address"),
    ("64:ff9b:1::/48", "a local-use NAT64 address (64:ff9b:1::/48)"),
    ("100::/64", "a discard-only address (100::/64)"),
    ("2001:2::/48", "a benchmarking address (2001:2::/48)"),
    ("2001:10::/28", "an ORCHID identifier, not routable (2001:10::/28)"),
    ("2001:20::/28", "an ORCHIDv2 identifier, not routable (2001:20::/28)"),
    ("2001:db8::/32", "a documentation address"),
    ("3fff::/20", "a documentation address"),
    ("fc00::/7", "a unique local address (fc00::/7)"),
    ("fe80::/10", "a link-local address (fe80::/10)"),
    ("fec0::/10", "a site-local address (fec0::/10, deprecated)"),
    ("ff00::/8", "a multicast address"),
)
_NAT64 = IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = IPv6Network("::/96")

# Names that never reach a public host, whatever a resolver answers: (suffix, why), most specific first.
_LOCAL_NAMES = (
    ("localhost", "a loopback name (localhost)"),
    ("internal", "a private network name (.internal)"),
    ("local", "a local network name (.local, multicast DNS)"),
    ("home.arpa", "a home network name (.home.arpa)"),
)

_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")


def blocked_reason(address: str | IPv4Address | IPv6Address) -> str | None:
    """None when ``address`` is a public unicast address; else why not, e.g. "a loopback address"."""
    ip = _as_ip(address)
    if isinstance(ip, IPv4Address):
        return _blocked_ipv4(ip)
    for network, reason in _IPV6_BLOCKED:
        if ip in network:
            return reason
    # An IPv6 address that carries an IPv4 one reaches (or is treated as) that IPv4 host.
    if embedded := _embedded_ipv4(ip):
        kind, inner = embedded
        for candidate in inner:
            if inner_reason := _blocked_ipv4(candidate):
                return f"{kind} of {candidate}, {inner_reason}"
        return None
    return _generic_reason(ip)


def _blocked_ipv4(ip: IPv4Address) -> str | None:
    for network, reason in _IPV4_BLOCKED:
        if ip in network:
            return reason
    return _generic_reason(ip)


def _generic_reason(ip: IPAddress) -> str | None:
    # Catch-all for special ranges not named above (ipaddress follows the IANA registries).
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        return "a non-public address"
    return None


def _embedded_ipv4(ip: IPv6Address) -> tuple[str, list[IPv4Address]] | None:
    if ip.ipv4_mapped is not None:
        return "an IPv4-mapped address", [ip.ipv4_mapped]
    if ip in _NAT64:
        return "a NAT64 address", [IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip in _IPV4_COMPATIBLE:  # :: and ::1 were judged before
        return "an IPv4-compatible address", [IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip.sixtofour is not None:
        return "a 6to4 address", [ip.sixtofour]
    if ip.teredo is not None:
        server, client = ip.teredo
        return "a Teredo address", [client, server]
    return None


def _as_ip(address: str | IPv4Address | IPv6Address) -> IPAddress:
    if isinstance(address, IPv4Address | IPv6Address):
        return address
    if (ip := _literal(address.strip().removeprefix("[").removesuffix("]"))) is None:
        raise AddressError(f"{address!r} is not an IP address")
    return ip


def parse_allowlist(raw: str) -> frozenset[str]:
    """The operator's WEBHOOK_HTTP_ALLOWLIST: comma or space separated "host:port" receivers it trusts.

    An allowlisted receiver (local development, tests) may use plain http and its addresses
    are not range-checked. Entries are normalised (lower case, IPv6 as "[::1]:8080").
    """
    entries = set()
    for entry in re.split(r"[,\s]+", raw or ""):
        if not entry:
            continue
        problem = f"WEBHOOK_HTTP_ALLOWLIST entry {entry!r} is not host:port"
        try:
            parts = urlsplit(f"//{entry}")
            port = parts.port
        except ValueError:
            raise AddressError(problem) from None
        if not parts.hostname or port is None or not 1 <= port <= 65535 or "@" in parts.netloc:
            raise AddressError(problem)
        if parts.path or parts.query or parts.fragment:
            raise AddressError(problem)
        try:
            entries.add(_key(_host(parts), port))
        except AddressError as error:
            raise AddressError(f"{problem}: {error}") from None
    return frozenset(entries)


def check_url(url: str, allowlist: frozenset[str] = frozenset()) -> str:
    """The URL (stripped) if it may be registered as a webhook endpoint; AddressError naming the rule if not.

    Static rules only (no DNS): https (http only for an allowlisted host:port), a host, no
    user:password@, no fragment, at most 2048 characters, a port in 1..65535, and an IP
    literal host must be a public address unless allowlisted.
    """
    return _parse(url, allowlist)[0]


def check_registration(
    url: str,
    allowlist: frozenset[str] = frozenset(),
    getaddrinfo: Callable[..., list[tuple[Any, ...]]] | None = None,
    timeout: float = REGISTRATION_LOOKUP_SECONDS,
) -> str:
    """The URL (stripped) if an endpoint may be registered with it now; AddressError with one line if not.

    The static rules of ``check_url``, then the host resolved (waited for ``timeout`` seconds at
    most) and every address checked as ``resolve`` checks it at delivery. An allowlisted
    host:port is the operator's own receiver: it is not looked up (it may resolve only where
    the functions run). A name that resolves now may still change: every delivery checks again.
    """
    url, *_, allowlisted = _parse(url, allowlist)
    if not allowlisted:
        resolve(url, allowlist, getaddrinfo, timeout=timeout)
    return url


@dataclass(frozen=True)
class Target:
    """A checked webhook destination: connect to ``address``, speak to ``host``."""

    url: str
    scheme: str
    host: str  # lower case; an IPv6 literal without brackets
    port: int
    path: str  # with the query string; "/" when the URL has no path
    address: str  # the checked IP address the connection must go to
    allowlisted: bool


def resolve(
    url: str,
    allowlist: frozenset[str] = frozenset(),
    getaddrinfo: Callable[..., list[tuple[Any, ...]]] | None = None,
    *,
    timeout: float | None = None,
) -> Target:
    """Check ``url``, resolve its host once, and check every address it resolves to.

    One blocked address refuses the URL: a name answering both a public and a private
    address is an attack, not a misconfiguration. ``getaddrinfo`` defaults to
    ``socket.getaddrinfo`` looked up at call time; ``timeout``: seconds the lookup is waited
    for at most (a name server that never answers holds only its own thread).
    """
    url, parts, host, port, allowlisted = _parse(url, allowlist)
    lookup = getaddrinfo or socket.getaddrinfo
    if timeout is not None:
        lookup = _within(timeout, lookup)
    try:
        answers = lookup(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise AddressError(f"webhook host {host!r} does not resolve: {_one_line(error)}") from None
    addresses = list(dict.fromkeys(str(answer[4][0]) for answer in answers))
    if not addresses:
        raise AddressError(f"webhook host {host!r} does not resolve: no addresses")
    if not allowlisted:
        for address in addresses:
            if reason := blocked_reason(address):
                raise AddressError(f"webhook host {host!r} resolves to {address}, {reason}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(url, parts.scheme.lower(), host, port, path, addresses[0], allowlisted)


def _within(seconds: float, getaddrinfo: Callable[..., list[tuple[Any, ...]]]) -> Callable[..., Any]:
    """``getaddrinfo`` waited for at most ``seconds``, in a thread of its own (it cannot be interrupted)."""

    def lookup(*args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        answer: list[Any] = []

        def run() -> None:
            try:
                answer.append(getaddrinfo(*args, **kwargs))
            except BaseException as error:  # handed to the caller below
                answer.append(error)

        worker = threading.Thread(target=run, daemon=True, name="outbound-dns")
        worker.start()
        worker.join(seconds)
        if not answer:
            raise socket.gaierror(f"no answer within {seconds:g} s")
        if isinstance(answer[0], BaseException):
            raise answer[0]
        return answer[0]

    return lookup


def _parse(url: str, allowlist: frozenset[str]) -> tuple[str, SplitResult, str, int, bool]:
    if not isinstance(url, str):
        raise AddressError("webhook URL must be a string")
    url = url.strip()
    shown = _shown(url)
    if not url:
        raise AddressError("webhook URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise AddressError(f"webhook URL {shown!r} is longer than {MAX_URL_LENGTH} characters")
    # urlsplit silently drops tabs and newlines, and http.client refuses non-ASCII request lines.
    if not url.isascii() or any(char <= " " or char == "\x7f" for char in url):
        raise AddressError(f"webhook URL {shown!r} must be printable ASCII without spaces (percent-encode the rest)")
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise AddressError(f"webhook URL {shown!r} is not a valid URL: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise AddressError(f"webhook URL {shown!r} must use https")
    if "#" in url:
        raise AddressError(f"webhook URL {shown!r} must not have a fragment")
    if "@" in parts.netloc:
        raise AddressError(f"webhook URL {shown!r} must not contain a user name or password")
    if not parts.hostname:
        raise AddressError(f"webhook URL {shown!r} must have a host")
    try:
        port = parts.port
    except ValueError:
        raise AddressError(f"webhook URL {shown!r} has an invalid port (1..65535)") from None
    port = DEFAULT_PORTS[scheme] if port is None else port
    if not 1 <= port <= 65535:
        raise AddressError(f"webhook URL {shown!r} has port {port}, outside 1..65535")
    try:
        host = _host(parts)
    except AddressError as error:
        raise AddressError(f"webhook URL {shown!r}: {error}") from None
    allowlisted = _key(host, port) in allowlist
    if scheme == "http" and not allowlisted:
        raise AddressError(f"webhook URL {shown!r} must use https")
    if not allowlisted and (reason := _static_reason(host)):
        raise AddressError(f"webhook URL {shown!r} points at {host}, {reason}")
    return url, parts, host, port, allowlisted


def _static_reason(host: str) -> str | None:
    """Why ``host`` is refused before any lookup: an IP literal that is not public, or a local name."""
    return blocked_reason(host) if _literal(host) is not None else local_name_reason(host)


def local_name_reason(host: str) -> str | None:
    """Why ``host`` names no public host ("a loopback name (localhost)"), or None: no lookup needed to tell."""
    host = host.lower()
    for suffix, reason in _LOCAL_NAMES:
        if host == suffix or host.endswith("." + suffix):
            return reason
    return None


def _host(parts: SplitResult) -> str:
    """The host of ``parts``, lower case, validated as an IP literal or a DNS name."""
    host = parts.hostname or ""
    bracketed = "[" in parts.netloc
    if (ip := _literal(host)) is not None:
        if isinstance(ip, IPv6Address) != bracketed:
            raise AddressError(f"host {host!r} is not a valid host")
        return ip.compressed
    if bracketed:
        raise AddressError(f"host {host!r} in brackets is not an IPv6 address")
    if host.endswith("."):
        raise AddressError(f"host {host!r} must not end with a dot")
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise AddressError(f"host {host!r} is not a valid host name")
    # "127.1", "2130706433" and "0x7f.1" are IPv4 addresses to inet_aton, which resolvers use.
    if _NUMERIC_LABEL.match(labels[-1]):
        raise AddressError(f"host {host!r} is not a valid host name (write an IPv4 address as a.b.c.d)")
    return host


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _key(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _shown(url: str) -> str:
    # Webhook URLs often carry a token in the query; messages end up in logs and delivery records.
    base, _, query = url.partition("?")
    shown = f"{base}?…" if query else base
    return shown if len(shown) <= 200 else f"{shown[:200]}…"


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:300]
