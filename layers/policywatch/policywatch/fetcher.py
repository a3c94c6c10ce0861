"""Fetch stage: download one policy page, politely and within limits.

Errors here are about getting bytes (network, HTTP status, size, content type); what the
bytes say is the extraction stage's business.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import requests

from policywatch import __version__

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_MAX_REDIRECTS = 5


class FetchError(Exception):
    """The page could not be fetched; ``retryable`` says whether trying later may help."""

    def __init__(self, url: str, reason: str, *, retryable: bool) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.retryable = retryable


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
    content_type: str
    body: bytes
    validators: Validators
    redirects: tuple[str, ...] = field(default_factory=tuple)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def default_user_agent() -> str:
    return f"policywatch/{__version__} (+https://github.com/policywatch/policywatch)"


def _session(user_agent: str) -> requests.Session:
    session = requests.Session()
    session.max_redirects = _MAX_REDIRECTS
    session.headers.update(
        {
            "User-Agent": user_agent,
            "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
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
    timeout: tuple[float, float] = (5, 20),
) -> FetchResult:
    """GET ``url``; a 304 against stored validators returns a result with no body."""
    headers = {}
    if validators and validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators and validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    session = _session(user_agent or default_user_agent())
    try:
        with session.get(url, headers=headers, timeout=timeout, stream=True) as response:
            redirects = tuple(r.url for r in response.history)
            if response.status_code == 304:
                return FetchResult(url, response.url, 304, "", b"", validators or Validators(), redirects)
            if response.status_code == 429 or response.status_code >= 500:
                raise FetchError(url, f"HTTP {response.status_code}", retryable=True)
            if response.status_code >= 400:
                raise FetchError(url, f"HTTP {response.status_code}", retryable=False)
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if content_type not in _HTML_TYPES:
                raise FetchError(url, f"unsupported content type {content_type or '(none)'!r}", retryable=False)
            body = _read_capped(response, url, max_bytes)
            return FetchResult(
                url=url,
                final_url=response.url,
                status=response.status_code,
                content_type=content_type,
                body=body,
                validators=Validators(
                    etag=response.headers.get("ETag"),
                    last_modified=response.headers.get("Last-Modified"),
                ),
                redirects=redirects,
            )
    except requests.TooManyRedirects:
        raise FetchError(url, f"more than {_MAX_REDIRECTS} redirects", retryable=False) from None
    except requests.Timeout:
        raise FetchError(url, "timed out", retryable=True) from None
    except requests.ConnectionError as exc:
        raise FetchError(url, f"connection failed ({type(exc).__name__})", retryable=True) from None
    finally:
        session.close()


def _read_capped(response: requests.Response, url: str, max_bytes: int) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(url, f"page is {int(declared)} bytes, over the {max_bytes}-byte limit", retryable=False)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(url, f"page is over the {max_bytes}-byte limit", retryable=False)
        chunks.append(chunk)
    return b"".join(chunks)
