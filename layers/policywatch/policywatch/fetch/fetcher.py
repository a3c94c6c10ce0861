"""Fetch stage: download one policy page, politely and within limits.

Errors here are about getting bytes (network, HTTP status, size, content type); what the
bytes say is the extraction stage's business. One ``fetch`` call retries transient failures
(connection errors, timeouts, 429, 5xx) a few times with short waits; a wait longer than the
policy allows, or running out of attempts or time, raises a retryable ``FetchError`` so the
caller can put the job back on its queue (``retry_after`` says how long the server asked for).

Every call has an overall deadline that holds whatever the server does (slow headers, a
trickled body): past it the call ends with a retryable ``FetchError`` naming the deadline.
Every hop, the first request and each redirect, is checked by the address rules and sent
to the checked address (``policywatch.fetch.network``, which explains both).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import requests
from requests.utils import requote_uri
from urllib3.exceptions import NameResolutionError, ReadTimeoutError

from policywatch import __version__
from policywatch.core.backoff import RetryPolicy
from policywatch.core.errors import TransientError
from policywatch.core.watchdog import Watchdog
from policywatch.fetch.network import PinnedAdapter, Refused, Resolver, Unresolved, check_hop
from policywatch.fetch.result import HTML_TYPES, PDF_TYPE, FetchError, FetchResult, Validators, redact_url

__all__ = ["HTML_TYPES", "PDF_TYPE", "FetchError", "FetchResult", "RetryPolicy", "Validators", "fetch", "redact_url"]

MAX_REDIRECTS = 5
DEFAULT_DEADLINE_SECONDS = 60  # a call without a deadline ends this long after it started
_REDIRECT_STATUSES = (301, 302, 303, 307, 308)
_SNIFFED_TYPES = ("application/octet-stream", "binary/octet-stream", "")  # PDF if the body says so
_PDF_MAGIC = b"%PDF-"
_CHUNK = 64 * 1024


def default_user_agent() -> str:
    return f"policywatch/{__version__} (+https://github.com/policywatch/policywatch)"


class _Transient(TransientError):
    """One attempt failed in a way a later attempt may not."""

    def __init__(self, reason: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


def _session(user_agent: str, adapter: PinnedAdapter) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxies from the environment: a proxy would resolve the name itself
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.update(
        {
            "User-Agent": user_agent,
            "Accept": "text/html,application/xhtml+xml;q=0.9,application/pdf;q=0.8,*/*;q=0.1",
            "Accept-Language": "en",
        }
    )
    return session


def fetch(
    url: str,
    *,
    validators: Validators | None = None,
    user_agent: str | None = None,
    max_bytes: int = 5 * 1024 * 1024,
    timeout: tuple[float, float] | float = (5, 20),
    retry: RetryPolicy = RetryPolicy(),  # noqa: B008 (frozen, so sharing the default is safe)
    deadline: float | None = None,
    sleep: Callable[[float], object] = time.sleep,
    allowlist: frozenset[str] = frozenset(),
    getaddrinfo: Resolver | None = None,
) -> FetchResult:
    """GET ``url`` (an HTML page or a PDF); a 304 against stored validators returns a result with no body.

    ``timeout`` is (connect, read) seconds per request. ``deadline`` is a ``time.monotonic()``
    value (default: ``DEFAULT_DEADLINE_SECONDS`` from now): no wait is started that would end
    past it, timeouts are shortened to it, and a request still under way at it is cut off.
    ``sleep`` does the waits between attempts. ``allowlist`` holds the ``host:port`` entries
    that may be fetched over http and at private addresses (FETCH_ALLOWLIST, parsed);
    ``getaddrinfo`` defaults to ``socket.getaddrinfo``.
    """
    started = time.monotonic()
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise FetchError(url, "not an http(s) URL", retryable=False)
    deadline = started + DEFAULT_DEADLINE_SECONDS if deadline is None else deadline
    connect_timeout, read_timeout = (timeout, timeout) if isinstance(timeout, int | float) else timeout
    headers = {}
    if validators and validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators and validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    attempt = 0
    with Watchdog(deadline) as watchdog:
        net = _Net(watchdog, allowlist, getaddrinfo)
        with _session(user_agent or default_user_agent(), net.adapter) as session:
            while True:
                attempt += 1
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise FetchError(url, "deadline reached before the first attempt", retryable=True, attempts=0)
                limits = (min(connect_timeout, remaining), min(read_timeout, remaining))
                try:
                    result = _attempt(session, net, url, headers, validators, max_bytes, limits, deadline)
                except _Transient as failure:
                    net.check_deadline(url, started, attempt, failure.status)
                    sleep(_wait_before_retry(url, failure, attempt, retry, deadline))
                    continue
                except FetchError as error:
                    net.check_deadline(url, started, attempt, error.status)
                    error.attempts = attempt
                    raise
                # A body cut off by the watchdog can look complete (it ends at connection close).
                net.check_deadline(url, started, attempt, result.status)
                return replace(result, attempts=attempt, elapsed=time.monotonic() - started)


class _Net:
    """What one ``fetch`` call connects with: the address rules, the watchdog, the pinned adapter."""

    def __init__(self, watchdog: Watchdog, allowlist: frozenset[str], getaddrinfo: Resolver | None) -> None:
        self.watchdog = watchdog
        self.allowlist = allowlist
        self.getaddrinfo = getaddrinfo
        self.adapter = PinnedAdapter(watchdog)

    def pin(self, url: str, current: str, previous: str | None, status: int | None) -> None:
        """Check the hop to ``current`` (redirected from ``previous``) and send the next request there."""
        try:
            hop = check_hop(current, self.allowlist, redirected_from=previous, getaddrinfo=self.getaddrinfo)
        except Refused as refused:
            where = f"redirected to {redact_url(current)}: " if previous else ""
            raise FetchError(url, f"{where}{refused.reason}", retryable=False, status=status) from None
        except Unresolved:
            raise _Transient("connection failed (host name did not resolve)") from None
        self.watchdog.phase = "connecting"
        self.adapter.pin(hop)

    def check_deadline(self, url: str, started: float, attempt: int, status: int | None) -> None:
        """The retryable FetchError that ends the call if the watchdog cut this attempt off."""
        if self.watchdog.expired:
            budget = round(self.watchdog.deadline - started, 1)
            raise FetchError(
                url,
                f"fetch deadline reached after {budget:g} s while {self.watchdog.expired_while}",
                retryable=True,
                status=status,
                attempts=attempt,
            )


def _wait_before_retry(
    url: str, failure: _Transient, attempt: int, retry: RetryPolicy, deadline: float | None
) -> float:
    """Seconds to wait before the next attempt, or the retryable FetchError that ends the call."""

    def give_up(why: str) -> FetchError:
        return FetchError(
            url,
            f"{failure.reason} ({why})",
            retryable=True,
            status=failure.status,
            retry_after=failure.retry_after,
            attempts=attempt,
        )

    asked = failure.retry_after
    if asked is not None and asked > retry.max_delay:
        raise give_up(
            f"server asked to retry after {asked:g} s, longer than the {retry.max_delay:g} s waited in-process"
        )
    if attempt >= retry.attempts:
        raise give_up(f"gave up after {attempt} attempt{'s' if attempt > 1 else ''}")
    wait = retry.backoff(attempt)
    if asked is not None:
        wait = max(wait, asked)
    if deadline is not None and time.monotonic() + wait >= deadline:
        raise give_up(f"no time left for attempt {attempt + 1} before the deadline")
    return wait


def _attempt(
    session: requests.Session,
    net: _Net,
    url: str,
    headers: dict[str, str],
    validators: Validators | None,
    max_bytes: int,
    timeout: tuple[float, float],
    deadline: float | None,
) -> FetchResult:
    """One request chain: follow up to MAX_REDIRECTS redirects, then read the page."""
    redirects: list[tuple[int, str]] = []
    current, previous, status = url, None, None
    try:
        while True:
            net.pin(url, current, previous, status)
            with session.get(current, headers=headers, timeout=timeout, stream=True, allow_redirects=False) as response:
                status = response.status_code
                if status in _REDIRECT_STATUSES:
                    previous, current = current, _redirect_target(url, current, response, redirects)
                    redirects.append((status, current))
                    continue
                net.watchdog.phase = "reading the body"
                return _page(url, response, validators, max_bytes, deadline, tuple(redirects))
    except requests.Timeout:
        raise _Transient("timed out") from None
    except requests.exceptions.SSLError:
        raise FetchError(url, "TLS handshake or certificate verification failed", retryable=False) from None
    except requests.exceptions.ChunkedEncodingError:
        raise _Transient("connection broken while reading the body") from None
    except requests.exceptions.ContentDecodingError:
        raise FetchError(url, "body could not be decoded (bad Content-Encoding)", retryable=False) from None
    except requests.ConnectionError as exc:
        raise _Transient(_connection_failure(exc)) from None
    except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema, requests.exceptions.MissingSchema):
        raise FetchError(url, f"invalid URL {redact_url(current)!r}", retryable=False) from None
    except requests.RequestException as exc:
        raise FetchError(url, f"request failed ({type(exc).__name__})", retryable=False) from None


def _redirect_target(url: str, current: str, response: requests.Response, hops: list[tuple[int, str]]) -> str:
    status = response.status_code
    location = response.headers.get("Location")
    if not location:
        raise FetchError(url, f"HTTP {status} redirect without a Location header", retryable=False, status=status)
    target = requote_uri(urljoin(current, location.strip()))
    scheme = urlsplit(target).scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(
            url,
            f"redirected to {redact_url(target)!r}: scheme {scheme!r} is not http or https",
            retryable=False,
            status=status,
        )
    if len(hops) >= MAX_REDIRECTS:
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects (the limit)", retryable=False, status=status)
    return target


def _page(
    url: str,
    response: requests.Response,
    validators: Validators | None,
    max_bytes: int,
    deadline: float | None,
    redirects: tuple[tuple[int, str], ...],
) -> FetchResult:
    status = response.status_code
    if status == 304:
        stored = validators or Validators()
        fresh = Validators(
            etag=response.headers.get("ETag") or stored.etag,
            last_modified=response.headers.get("Last-Modified") or stored.last_modified,
        )
        return FetchResult(url, response.url, 304, "", b"", fresh, redirects)
    if status == 429 or status >= 500:
        raise _Transient(f"HTTP {status}", status=status, retry_after=_retry_after(response))
    if status >= 400:
        raise FetchError(url, f"HTTP {status}", retryable=False, status=status)
    if status >= 300:
        raise FetchError(url, f"HTTP {status} (not a redirect policywatch follows)", retryable=False, status=status)
    declared = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if declared not in (*HTML_TYPES, PDF_TYPE, *_SNIFFED_TYPES):
        raise FetchError(url, _unsupported(declared), retryable=False, status=status)
    body = _read_capped(response, url, max_bytes, deadline)
    is_pdf = body.lstrip()[: len(_PDF_MAGIC)] == _PDF_MAGIC
    if declared == PDF_TYPE or is_pdf:
        content_type = PDF_TYPE
    elif declared in HTML_TYPES:
        content_type = declared
    else:
        raise FetchError(url, _unsupported(declared), retryable=False, status=status)
    return FetchResult(
        url=url,
        final_url=response.url,
        status=status,
        content_type=content_type,
        body=body,
        validators=Validators(etag=response.headers.get("ETag"), last_modified=response.headers.get("Last-Modified")),
        redirects=redirects,
    )


def _unsupported(declared: str) -> str:
    return f"unsupported content type {declared or '(none)'!r} (policywatch reads HTML and PDF)"


def _limit(max_bytes: int) -> str:
    mib = max_bytes / (1024 * 1024)
    return f"the {max_bytes}-byte limit" + (f" ({mib:g} MB)" if mib >= 1 and mib == int(mib) else "")


def _read_capped(response: requests.Response, url: str, max_bytes: int, deadline: float | None) -> bytes:
    """The body, refusing (without reading further) one over ``max_bytes`` once decoded."""
    declared = response.headers.get("Content-Length", "").strip()
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(
            url,
            f"page is {int(declared)} bytes, over {_limit(max_bytes)}",
            retryable=False,
            status=response.status_code,
        )
    chunks: list[bytes] = []
    size = 0
    for chunk in _chunks(response):
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(url, f"page is over {_limit(max_bytes)}", retryable=False, status=response.status_code)
        chunks.append(chunk)
        if deadline is not None and time.monotonic() > deadline:
            raise _Transient("deadline reached while reading the body", status=response.status_code)
    return b"".join(chunks)


def _chunks(response: requests.Response) -> Iterator[bytes]:
    try:
        yield from response.iter_content(chunk_size=_CHUNK)
    except requests.ConnectionError as exc:  # a read timeout mid-body arrives as ConnectionError
        if isinstance(exc.args[0] if exc.args else None, ReadTimeoutError):
            raise _Transient("timed out while reading the body", status=response.status_code) from None
        raise


def _retry_after(response: requests.Response) -> float | None:
    """Seconds the server asked us to wait: ``Retry-After`` as delta-seconds or an HTTP-date."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    when = _http_date(value)
    if when is None:
        return None
    now = _http_date(response.headers.get("Date", "")) or datetime.now(UTC)  # the server's clock when it says
    return max(0.0, (when - now).total_seconds())


def _http_date(value: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _connection_failure(exc: requests.ConnectionError) -> str:
    """What went wrong, from the exception chain, without repeating urllib3's messages (they hold URLs)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        error = pending.pop(0)
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, NameResolutionError):
            return "connection failed (host name did not resolve)"
        if isinstance(error, OSError) and error.strerror:
            return f"connection failed ({error.strerror.lower()})"
        pending.extend([getattr(error, "reason", None), error.__cause__, error.__context__])
        pending.extend(a for a in error.args if isinstance(a, BaseException))
    return f"connection failed ({type(exc).__name__})"
