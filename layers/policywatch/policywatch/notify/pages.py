"""Fan-outs a page at a time: any number of function instances deliver one change (or the digest) together.

A change event does not deliver anything itself: it starts the change's fan-out (its ledger, in
``storage.fanouts``) and puts the job of page 1 on the fan-out queue. Whichever instance receives
a page job reads that page of the platform's ``by-platform`` index (one Query of at most
``page_size`` subscribers, from the cursor the job carries), puts the next page's job on the queue
*first*, so another instance starts on it straight away, then delivers its own page and marks it
done. Each subscriber's watch item is read once per fan-out, and no invocation holds more than
one page, whatever the platform's size.

Every step is safe to repeat, because SQS delivers at least once and an instance can die
anywhere:

- a page already done is skipped;
- the next page's job is sent once its item is recorded and before this page is marked as having
  sent it (``next_sent``): a page that dies in between sends it again, and the duplicate job finds
  its page pending or done;
- each delivery is claimed before it is sent (``storage.deliveries``);
- a page is done once, its counts added once (``FanOuts.page_done``).

A page that cannot finish (the deadline came first, a delivery broke off) fails its message and
the queue brings it back: what went out is not sent again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from policywatch.core.errors import InputError
from policywatch.storage.fanouts import FanOuts, PageKey
from policywatch.storage.queues import Message, Queue
from policywatch.storage.subscribers import Subscribers
from policywatch.subscribers import Subscriber

logger = Logger(child=True)

KINDS = ("alert", "digest", "reminder")


class PageJobError(InputError):
    """A message on the fan-out queue is not a page job."""


@dataclass(frozen=True)
class PageJob:
    kind: str  # "alert": a change to the platform's subscribers; "digest": the week's; "reminder": an effective date
    fanout_id: str  # the change id, or "digest-<week>"
    record_key: str  # the change record (alert, reminder), or the digest's contents, in the archive
    platform: str
    page: int = 1
    cursor: dict[str, Any] | None = None  # where the page starts in the platform's index (None: the start)

    @property
    def key(self) -> PageKey:
        return PageKey(self.fanout_id, self.platform, self.page)

    def body(self) -> str:
        job: dict[str, Any] = {"kind": self.kind, "fanout": self.fanout_id, "record_key": self.record_key}
        job |= {"platform": self.platform, "page": self.page, "cursor": self.cursor}
        return json.dumps(job, sort_keys=True, default=_number)

    def after(self, cursor: dict[str, Any]) -> PageJob:
        return PageJob(self.kind, self.fanout_id, self.record_key, self.platform, self.page + 1, cursor)


def is_page_job(body: str) -> bool:
    """Whether a queue message is a page job (a change event is told apart by having no ``fanout``)."""
    try:
        return isinstance(job := json.loads(body), dict) and "fanout" in job
    except json.JSONDecodeError:
        return False


def read_job(body: str) -> PageJob:
    """A fan-out queue message as a PageJob; PageJobError naming what is wrong with it."""
    try:
        data = json.loads(body)
        job = PageJob(
            data["kind"], data["fanout"], data["record_key"], data["platform"], data["page"], data.get("cursor")
        )
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise PageJobError(f"not a page job: {type(exc).__name__}: {exc}") from None
    if job.kind not in KINDS:
        raise PageJobError(f"not a page job: kind must be one of {', '.join(KINDS)}, not {job.kind!r}")
    if not all(isinstance(v, str) and v for v in (job.fanout_id, job.record_key, job.platform)):
        raise PageJobError("not a page job: fanout, record_key and platform must be non-empty strings")
    if type(job.page) is not int or job.page < 1:
        raise PageJobError(f"not a page job: page must be a positive integer, not {job.page!r}")
    if job.cursor is not None and not isinstance(job.cursor, dict):
        raise PageJobError("not a page job: cursor must be an object")
    return job


def enqueue(job: PageJob, fanouts: FanOuts, queue: Queue) -> bool:
    """Record ``job``'s page as started and put the job on the fan-out queue, unless the page is done; True if sent."""
    page = fanouts.add_page(job.key, job.body())
    if page.get("status") == "done":
        return False
    queue.send(Message(job.body()))
    return True


def start(
    kind: str,
    fanout_id: str,
    record_key: str,
    platforms: list[str],
    *,
    fanouts: FanOuts,
    queue: Queue,
    event: str = "",
) -> int:
    """Start a fan-out over ``platforms``: its ledger and the first page of each; the pages sent.

    ``event``: the change event an alert's pages deliver (kept in the ledger). Run again (a
    redelivered event, a rerun digest), it sends the first pages that are not done.
    """
    fanouts.start(fanout_id, kind, platforms, record_key, event)
    return sum(enqueue(PageJob(kind, fanout_id, record_key, platform), fanouts, queue) for platform in platforms)


@dataclass
class PageRun:
    """What one page job did."""

    skipped: bool = False  # done before: a duplicate job
    subscribers: int = 0
    next_sent: bool = False
    counts: dict[str, int] | None = None


def run_page(
    job: PageJob,
    *,
    fanouts: FanOuts,
    subscribers: Subscribers,
    queue: Queue,
    page_size: int,
    deliver: Callable[[list[Subscriber]], dict[str, int]],
) -> PageRun:
    """Read ``job``'s page, send the next page's job, deliver this one with ``deliver`` (its counts), mark it done."""
    run = PageRun()
    page = fanouts.page(job.key)
    if page is None:  # its ledger is gone (the records expired) or was never written: nothing can count it
        raise PageJobError(f"page {job.page} of {job.fanout_id} ({job.platform}) is not in its fan-out's ledger")
    if page.get("status") == "done":
        run.skipped = True
        return run
    read_before = subscribers.items_read
    watchers, cursor = subscribers.watchers_page(job.platform, page_size, job.cursor)
    run.subscribers = len(watchers)
    if cursor is not None and not page.get("next_sent"):
        enqueue(job.after(cursor), fanouts, queue)
        fanouts.next_sent(job.key)
        run.next_sent = True
    counts = deliver(watchers)
    counts["items_read"] = subscribers.items_read - read_before
    run.counts = counts
    fanouts.page_done(job.key, counts, last=cursor is None)
    logger.info(
        "page delivered",
        extra={"fanout": job.fanout_id, "platform": job.platform, "page": job.page, "last": cursor is None, **counts},
    )
    return run


def _number(value: Any) -> Any:
    """A cursor's DynamoDB numbers come back as Decimal."""
    return int(value) if value == int(value) else float(value)
