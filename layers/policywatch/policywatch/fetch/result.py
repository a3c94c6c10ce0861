"""What a fetch gives back: the page and its cache validators, or the reason it could not be had.

``policywatch.fetch.fetcher`` re-exports all of it; messages carry URLs redacted by ``redact_url``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from policywatch.core.errors import InputError, PolicywatchError, TransientError

HTML_TYPES = ("text/html", "application/xhtml+xml")
PDF_TYPE = "application/pdf"
_SECRET_PARAM = re.compile(r"token|key|sig|secret|passw|auth|credential|session|amz-", re.IGNORECASE)


class FetchError(PolicywatchError):
    """The page could not be fetched; ``retryable`` says whether trying later may help.

    Its branch follows: ``FetchError(..., retryable=True)`` is a ``FetchUnavailable`` (a
    ``TransientError``: timeouts, 5xx, 429, network failures) and ``retryable=False`` a ``FetchRefused``
    (an ``InputError``: the declared page answered 4xx, with a type or size we do not take, or at an
    address the SSRF rules refuse). ``except FetchError`` catches both.

    ``status`` is the last HTTP status seen (None for network failures), ``retry_after`` the
    seconds the server asked the client to wait (None when it did not say).
    """

    def __new__(cls, *args: object, retryable: bool, **kwargs: object) -> FetchError:
        if cls is FetchError:
            cls = FetchUnavailable if retryable else FetchRefused
        return super().__new__(cls, *args)

    def __init__(
        self,
        url: str,
        reason: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after: float | None = None,
        attempts: int = 1,
    ) -> None:
        url = redact_url(url)
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after
        self.attempts = attempts


class FetchUnavailable(FetchError, TransientError):
    """Trying later may help (the job is retried through the queue)."""


class FetchRefused(FetchError, InputError):
    """Trying again will not help until the declaration or the page changes (recorded, never retried)."""


@dataclass(frozen=True)
class Validators:
    """HTTP cache validators from the previous successful fetch."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchResult:
    url: str
    final_url: str
    status: int
    content_type: str  # "text/html", "application/xhtml+xml" or "application/pdf"; "" for a 304
    body: bytes
    validators: Validators
    redirects: tuple[tuple[int, str], ...] = field(default_factory=tuple)  # (status, location) per hop
    rendered: bool = False  # the body is the DOM a browser rendered (``policywatch.fetch.render``)
    attempts: int = 1  # requests (each following its redirects) it took, retries included
    elapsed: float = 0.0  # seconds, waits between attempts included

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def is_pdf(self) -> bool:
        return self.content_type == PDF_TYPE


def redact_url(url: str) -> str:
    """``url`` fit for logs and error messages: no user:password, no secret-looking query values."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparseable URL)"
    netloc = parts.netloc.rpartition("@")[2]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_SECRET_PARAM.search(k) for k, _ in pairs):
            query = urlencode([(k, "REDACTED" if _SECRET_PARAM.search(k) else v) for k, v in pairs])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
