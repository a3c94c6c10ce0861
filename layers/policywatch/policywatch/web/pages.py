"""The pages every part of the site shares, and those that are not the site's views.

- ``PageResponse``, the cache policies, and the plain pages: 4xx, 5xx, a message (``views`` renders
  the site's own pages, the change page among them).
- ``/versions/{platform}/{document}/{stamp}.md``: an archived version exactly as recorded, with its
  SHA-256 in ``X-Content-SHA256`` so a reader can check what they cite.
- ``/evidence/public-key.pem``, ``/evidence/checkpoints/latest.json|.sig`` and
  ``/evidence/checkpoints/{stamp}.json|.sig``: the signed checkpoints and their public key, byte
  for byte from the archive's ``checkpoints/`` (docs/operations.md "Signed checkpoints").
- ``/unsubscribe?s=<subscriber>&t=<token>``: GET shows a button (mail scanners follow links, and
  must not unsubscribe anyone); POST unsubscribes (RFC 8058 one-click, from the List-Unsubscribe header).

Only these keys are served: the archive's snapshots and anything else stay private. Anyone can
call these pages with anything, so every answer is a page: a missing or malformed thing is a
4xx, and two one-click POSTs at once both end unsubscribed.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from aws_lambda_powertools import Logger

from policywatch.evidence import checkpoint
from policywatch.messages.render import render
from policywatch.storage.archive import Archive, sha256
from policywatch.storage.errors import StorageError
from policywatch.storage.subscribers import ConcurrentUpdateError, Subscribers
from policywatch.subscribers import SubscriberError

logger = Logger(child=True)

_PART = r"[a-z0-9][a-z0-9-]{0,80}"
_STAMP = r"\d{4}-\d{2}-\d{2}T\d{6}\.\d{3}Z"
VERSION_PATH = re.compile(rf"^versions/{_PART}/{_PART}/{_STAMP}\.md$")
EVIDENCE_PATH = re.compile(rf"^/evidence/(?P<name>public-key\.pem|checkpoints/(?P<at>latest|{_STAMP})\.(?:json|sig))$")

# S3 answers a missing key with 404, or with 403 to a reader that may not list the bucket.
UNSUBSCRIBE_ATTEMPTS = 4  # a concurrent write moves the version; read again and retry this often


# How long CloudFront and browsers may keep an answer (the web function is the origin; see
# docs/site.md "Caching"). A page changes when a change is recorded, at most once a sweep.
PAGE_CACHE = "public, max-age=60, stale-while-revalidate=300, stale-if-error=86400"
FEED_CACHE = "public, max-age=300, stale-while-revalidate=600, stale-if-error=86400"
API_CACHE = "public, max-age=60, stale-while-revalidate=300"
ARCHIVED_CACHE = "public, max-age=31536000, immutable"  # an archived version or change never changes
# Two archived versions compared: the same answer until the diff engine changes (a deploy), so
# the edge keeps each pair a day; the diff runs once per pair and day, not once per reader.
COMPARE_CACHE = "public, max-age=86400, stale-while-revalidate=86400"
STATIC_CACHE = "public, max-age=86400"
LATEST_CACHE = "public, max-age=300"  # the latest checkpoint and the public key: replaced every hour
PRIVATE = "private, no-store"  # unsubscribe, Professional pages, errors


@dataclass(frozen=True)
class PageResponse:
    status: int
    body: str
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    cache: str = PRIVATE  # Cache-Control; only 200s are ever cached


def message(status: int, title: str, text: str, form_action: str | None = None) -> PageResponse:
    """A plain page: a title and a sentence (and the unsubscribe button when ``form_action`` is given)."""
    return PageResponse(status, render("page.html", title=title, text=text, form_action=form_action))


def not_found(what: str) -> PageResponse:
    return message(404, "Not found", f"There is no such {what}.")


def method_not_allowed(allowed: str) -> PageResponse:
    return replace(
        message(405, "Method not allowed", f"This page answers {allowed} only."), headers=(("Allow", allowed),)
    )


def bad_request(problem: str) -> PageResponse:
    """A request we cannot answer as asked; ``problem`` is an InputError's one line (escaped by the template)."""
    return message(400, "Bad request", problem)


def unavailable() -> PageResponse:
    """Storage did not answer just now (a TransientError): worth a retry, and browsers are told when."""
    page = message(503, "Try again in a minute", "This page could not be read just now; please try again shortly.")
    return replace(page, headers=(("Retry-After", "60"),))


def server_error() -> PageResponse:
    """What a reader sees when something failed on our side: no detail (it is in the logs)."""
    return message(500, "Something went wrong", "This page could not be shown just now; please try again later.")


def version_file(archive: Archive, path: str) -> PageResponse:
    """The archived version at ``versions/...md`` exactly as recorded, with its SHA-256 in a header."""
    if not VERSION_PATH.match(path):
        return not_found("version")
    head = _absent_if_missing(archive.head, path)
    body = _read(archive, path) if head is not None else None
    if head is None or body is None:  # gone between the two reads counts as gone
        return not_found("version")
    sha = head.get("Metadata", {}).get("sha256", "")
    return PageResponse(
        200, body.decode(), "text/markdown; charset=utf-8", (("X-Content-SHA256", sha),), cache=ARCHIVED_CACHE
    )


@dataclass(frozen=True)
class EvidenceFile:
    """A published checkpoint file exactly as stored (a signature is binary, so bytes)."""

    body: bytes
    content_type: str
    cache: str
    sha256: str


def evidence_file(archive: Archive, path: str) -> EvidenceFile | PageResponse:
    """``/evidence/...``: the checkpoint, signature or public key at ``checkpoints/...`` in the archive."""
    found = EVIDENCE_PATH.match(path)
    if not found:
        return not_found("file")
    key = checkpoint.PREFIX + found["name"].removeprefix("checkpoints/")
    body = _read(archive, key)
    if body is None:
        return not_found("file")
    dated = found["at"] not in (None, "latest")  # a dated checkpoint is never written again
    return EvidenceFile(body, checkpoint.content_type(key), ARCHIVED_CACHE if dated else LATEST_CACHE, sha256(body))


def unsubscribe(
    subscribers: Subscribers, subscriber_id: str, token: str, *, confirmed: bool, action: str
) -> PageResponse:
    """GET (``confirmed=False``) asks; POST unsubscribes. Either way the link is checked first.

    Unsubscribing is idempotent: a POST that loses a race with another write (the same click
    twice, a mail provider's one-click and the reader's) reads the subscriber again and retries,
    and finds them unsubscribed if the other write was the same request.
    """
    for attempt in range(UNSUBSCRIBE_ATTEMPTS):
        try:
            subscriber = subscribers.by_token(subscriber_id, token)
        except SubscriberError as exc:
            return message(404, "Link not valid", str(exc))
        if subscriber.status == "unsubscribed":
            return _unsubscribed()
        if not confirmed:
            return message(
                200, "Unsubscribe", "Stop every policywatch alert and digest to this address?", form_action=action
            )
        try:
            subscribers.set_status(subscriber, "unsubscribed")
        except ConcurrentUpdateError:
            # Let the other write land before reading again (jitter, not cryptography).
            time.sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311
            continue
        return _unsubscribed()
    logger.warning("unsubscribe kept losing to concurrent writes", extra={"attempts": UNSUBSCRIBE_ATTEMPTS})
    return replace(
        message(503, "Please try again", "Your subscription was being changed at the same moment; please try again."),
        headers=(("Retry-After", "5"),),
    )


def _unsubscribed() -> PageResponse:
    return message(200, "Unsubscribed", "You are unsubscribed: policywatch sends you nothing more.")


def _read(archive: Archive, key: str) -> bytes | None:
    return _absent_if_missing(archive.get, key)


def _absent_if_missing[T](read: Callable[[str], T], key: str) -> T | None:
    """``read(key)``, or None when S3 says the key is missing (or forbidden, which is how it says so here).

    Without ``s3:ListBucket``, S3 answers a missing key with 403 rather than 404 (it will not
    tell a reader that may not list the bucket whether a key exists). The pages only ever ask
    for keys of the shapes above, so a 403 means "not there" to the reader; it is logged, as it
    also means the function's permissions are not what the template grants.
    """
    try:
        return read(key)
    except StorageError as exc:
        if exc.missing:
            return None
        if exc.forbidden:
            logger.warning("S3 refused a public page's key; answering 404", extra={"key": key, "code": exc.code})
            return None
        raise
