"""Notify stage: deliver one change to a page of its platform's subscribers, within their tiers.

A page is read from the ``by-platform`` index (one item each, never a scan) by ``notify.pages``,
which spreads a platform's pages over as many function instances as the queue starts. Each subscriber's entitlement is judged against their tier as it is now: status,
platforms the tier still covers, provision filter, channels, the SMS severity threshold.
Deliveries then run concurrently, each claimed before it is sent (``deliveries``). A delivery
that fails is recorded as ``retrying`` and handed to the delivery queue (``retries``); it
never holds up the others, and the change itself succeeds.

No subscriber can take the invocation's time from the others: deliveries are started in turns,
one subscriber after another, with at most ``PER_SUBSCRIBER_IN_FLIGHT`` of one subscriber's in
flight (a webhook attempt itself ends at its deadline, however the receiver trickles). What is
not started before the invocation's deadline is handed to the delivery queue, which makes its
first attempt; only what could not even be handed over makes the change fail and come back.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from enum import Enum
from typing import Any

from aws_lambda_powertools import Logger

from policywatch.core.errors import TransientError
from policywatch.notify import dispatch, jobs
from policywatch.notify.dispatch import DeliveryOptions, Renderings
from policywatch.notify.jobs import RetryQueue
from policywatch.storage.deliveries import Deliveries, DeliveryKey
from policywatch.storage.sendrate import NoSendSlot
from policywatch.storage.subscribers import Subscribers
from policywatch.subscribers import Subscriber, entitlement
from policywatch.subscribers.tiers import Tier

logger = Logger(child=True)

DEADLINE_MARGIN_SECONDS = 20  # start no delivery with less than this left: a webhook attempt may take its deadline
HAND_OVER_RESERVE_SECONDS = 5  # handing deliveries over stops this long before the invocation's deadline
PER_SUBSCRIBER_IN_FLIGHT = 2  # one subscriber's deliveries in flight at once, at most
HAND_OVER_CHUNK = 10  # deliveries claimed and put on the delivery queue together (one SQS batch)


class UnfinishedFanOut(TransientError):
    """Some deliveries were neither made nor handed over; the change is retried and what went out is not sent again."""


class RetryNotScheduled(TransientError):
    """A failed first attempt could not be handed to the delivery queue; its claim was given back."""


class Result(Enum):
    """What became of one delivery; each value names the FanOut counter it adds to."""

    SENT = "sent"
    DUPLICATE = "duplicates"  # claimed before: a redelivered event or a retried invocation
    RETRYING = "retrying"
    HANDED_OVER = "handed_over"  # not started before the deadline: the delivery queue makes the first attempt
    NOT_STARTED = "not_started"  # neither started nor handed over: the change comes back for it
    ERROR = "errors"  # the attempt broke off (logged); the change comes back, the claim decides what is redone
    NO_SLOT = "no_slot"  # no send slot before the deadline, nothing claimed: handed over with those not started


@dataclass
class FanOut:
    """What one change did."""

    watchers: int = 0  # subscribers of the platform read from the index
    sent: int = 0
    duplicates: int = 0
    retrying: int = 0
    handed_over: int = 0
    not_started: int = 0
    errors: int = 0
    deferred_to_digest: int = 0  # weekly tiers: the change waits for Monday's digest
    not_entitled: int = 0  # inactive, filtered out, or a platform beyond a downgraded tier
    no_slot: int = 0  # waited for a send slot past the deadline; then handed over (counted there too)

    def count(self, result: Result) -> None:
        setattr(self, result.value, getattr(self, result.value) + 1)


@dataclass(frozen=True)
class Task:
    key: DeliveryKey
    subscriber: Subscriber
    plan: Tier


class Turns:
    """Subscribers' deliveries in turn, with at most ``per_subscriber`` of one subscriber's in flight.

    Each subscriber is a queue of tasks; ``ready`` holds the subscribers whose next task may
    start now, in the order they get their turn. Every operation is O(1).
    """

    def __init__(self, queues: list[deque[Task]], per_subscriber: int = PER_SUBSCRIBER_IN_FLIGHT) -> None:
        self.queues = queues
        self.per_subscriber = per_subscriber
        self.in_flight = [0] * len(queues)
        self.ready = deque(i for i, queue in enumerate(queues) if queue)

    def next(self) -> tuple[int, Task] | None:
        """The next task to start and its subscriber's number; None while every subscriber left is at its cap."""
        if not self.ready:
            return None
        i = self.ready.popleft()
        task = self.queues[i].popleft()
        self.in_flight[i] += 1
        if self.queues[i] and self.in_flight[i] < self.per_subscriber:
            self.ready.append(i)
        return i, task

    def done(self, i: int) -> None:
        self.in_flight[i] -= 1
        if self.queues[i] and self.in_flight[i] == self.per_subscriber - 1:
            self.ready.append(i)  # it was waiting for room: back in line

    def rest(self) -> list[Task]:
        """Every task not started, in turn order; none is started afterwards."""
        left = []
        while any(self.queues):
            left += [queue.popleft() for queue in self.queues if queue]
        self.ready.clear()
        return left


def deliver_change(
    change: dict[str, Any],
    *,
    subscribers: Subscribers,
    deliveries: Deliveries,
    options: DeliveryOptions,
    retries: RetryQueue,
    concurrency: int = 16,
    deadline: float | None = None,
    watchers: Iterable[Subscriber] | None = None,
    rerun: bool = False,
) -> FanOut:
    """Send ``change`` on every channel each of ``watchers`` is entitled to, once each.

    ``watchers``: one page of the platform's subscribers (``notify.pages``); all of them, read
    from the index here, when not given. ``deadline``: the invocation's end
    (``time.monotonic()``); deliveries not started ``DEADLINE_MARGIN_SECONDS`` before it are
    handed to the delivery queue. ``rerun``: the page was received before; deliveries claimed
    then are counted as duplicates with one read, before any waits for a send slot.
    """
    fan_out = FanOut()
    if not change.get("alert"):
        return fan_out
    queues = _entitled(change, subscribers.watchers(change["platform"]) if watchers is None else watchers, fan_out)
    if rerun:  # this page ran before: what it claimed then waits for no send slot now
        queues = _unclaimed(queues, deliveries, fan_out)
    renderings = Renderings(change, options.links)
    cutoff = None if deadline is None else deadline - DEADLINE_MARGIN_SECONDS

    def run(task: Task) -> Result:
        return attempt(task, change, renderings, deliveries=deliveries, options=options, retries=retries)

    turns = Turns(queues)
    workers = max(1, min(concurrency, sum(len(q) for q in queues)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        running, unslotted = _in_turns(pool, run, turns, workers, cutoff, fan_out)
        stop = None if deadline is None else deadline - HAND_OVER_RESERVE_SECONDS

        def over(tasks: list[Task]) -> None:
            for result in hand_over(tasks, change["record_key"], deliveries, retries, concurrency, stop):
                fan_out.count(result)

        # What was not started, or found no send slot in time, goes to the delivery queue while
        # the last attempts finish; then what those found no slot for.
        if left := unslotted + turns.rest():
            over(left)
        late = [task for future, (_, task) in running.items() if _counted(future, task, fan_out) is Result.NO_SLOT]
        if late:
            over(late)
    logger.info("change fanned out", extra={"change_id": change["change_id"], **vars(fan_out)})
    if fan_out.not_started or fan_out.errors:
        raise UnfinishedFanOut(
            f"{fan_out.not_started} deliveries neither started nor handed over before the deadline, "
            f"{fan_out.errors} broke off; retrying the change"
        )
    return fan_out


def _entitled(change: dict[str, Any], watchers: Iterable[Subscriber], fan_out: FanOut) -> list[deque[Task]]:
    """Each watcher's deliveries as their tier and settings allow (one queue each), counting who gets none."""
    queues: list[deque[Task]] = []
    for subscriber in watchers:
        fan_out.watchers += 1
        granted = entitlement(subscriber, change)
        if granted is None:
            fan_out.not_entitled += 1
        elif not granted.same_day:
            fan_out.deferred_to_digest += 1
        elif granted.channels:
            queues.append(
                deque(
                    Task(DeliveryKey(change["change_id"], subscriber.subscriber_id, channel), subscriber, granted.plan)
                    for channel in granted.channels
                )
            )
    return queues


def _in_turns(
    pool: ThreadPoolExecutor,
    run: Callable[[Task], Result],
    turns: Turns,
    workers: int,
    cutoff: float | None,
    fan_out: FanOut,
) -> tuple[dict[Future[Result], tuple[int, Task]], list[Task]]:
    """Start deliveries in turns until none is left, the cutoff, or one finds no send slot in time
    (none would for the rest); returns those still running and those that found no slot."""
    running: dict[Future[Result], tuple[int, Task]] = {}
    unslotted: list[Task] = []
    while True:
        while len(running) < workers and not _past(cutoff) and not unslotted and (picked := turns.next()):
            running[pool.submit(run, picked[1])] = picked
        if not running or _past(cutoff) or unslotted:
            return running, unslotted
        done, _ = wait(running, timeout=_left(cutoff), return_when=FIRST_COMPLETED)
        for future in done:
            i, task = running.pop(future)
            turns.done(i)
            if _counted(future, task, fan_out) is Result.NO_SLOT:
                unslotted.append(task)


def _unclaimed(queues: list[deque[Task]], deliveries: Deliveries, fan_out: FanOut) -> list[deque[Task]]:
    claimed = deliveries.existing([task.key for queue in queues for task in queue])
    fan_out.duplicates += len(claimed)
    kept = [deque(task for task in queue if task.key not in claimed) for queue in queues]
    return [queue for queue in kept if queue]


def _counted(future: Future[Result], task: Task, fan_out: FanOut) -> Result:
    result = _result(future, task)
    fan_out.count(result)
    return result


def _past(moment: float | None) -> bool:
    return moment is not None and time.monotonic() >= moment


def _left(moment: float | None) -> float | None:
    return None if moment is None else max(0.0, moment - time.monotonic())


def _result(future: Future[Result], task: Task) -> Result:
    try:
        return future.result()
    except Exception as exc:
        logger.error("delivery broke off", extra={**vars(task.key), "error": jobs.describe(exc)})
        return Result.ERROR


def attempt(
    task: Task,
    change: dict[str, Any],
    renderings: Renderings,
    *,
    deliveries: Deliveries,
    options: DeliveryOptions,
    retries: RetryQueue,
) -> Result:
    """The first attempt of one delivery: its send slot, then claim, send, record; a failure is handed
    to the delivery queue."""
    try:
        dispatch.pace(task.key.channel, options)
    except NoSendSlot:  # none before the deadline: the delivery queue makes the first attempt
        return Result.NO_SLOT
    if not deliveries.claim(task.key, record_key=change["record_key"]):
        return Result.DUPLICATE
    try:
        message_id, detail = dispatch.send(task.key, task.subscriber, task.plan, renderings, options)
    except Exception as exc:  # any failure of this channel: the others go on
        return _retry_later(task.key, change["record_key"], jobs.describe(exc), deliveries, retries)
    try:
        deliveries.sent(task.key, message_id, detail)
    except Exception as exc:  # it went out: the change, retried, must not send it twice (the claim stays)
        logger.error(
            "delivery sent but not recorded; the reconciler settles it",
            extra={**vars(task.key), "error": jobs.describe(exc)},
        )
    return Result.SENT


def _retry_later(key: DeliveryKey, record_key: str, reason: str, deliveries: Deliveries, retries: RetryQueue) -> Result:
    """Record the failed first attempt and put attempt 2 on the delivery queue; else give the claim back."""
    delay = retries.delay(1)
    logger.warning(
        "delivery failed; retrying from the delivery queue",
        extra={**vars(key), "error": reason, "retry_in_seconds": round(delay)},
    )
    recorded = True
    try:
        deliveries.retrying(key, reason, delay)
    except Exception as exc:  # the record still says sending: the job below vouches that attempt 1 ended unsent
        recorded = False
        logger.warning("could not record the failure", extra={**vars(key), "error": jobs.describe(exc)})
    try:
        retries.schedule(key, record_key, delay, after_failed=None if recorded else 1)
    except Exception as exc:
        # Nobody would make attempt 2: give the claim back, so the change's redelivery makes attempt 1
        # again. If that fails too, the record stays unsettled and the reconciler finds it.
        deliveries.release(key, "retrying" if recorded else "sending", 1)
        raise RetryNotScheduled(f"could not schedule the retry: {jobs.describe(exc)}") from exc
    return Result.RETRYING


def hand_over(
    tasks: list[Task],
    record_key: str,
    deliveries: Deliveries,
    retries: RetryQueue,
    concurrency: int,
    stop: float | None,
) -> list[Result]:
    """Claim ``tasks`` as queued and put them on the delivery queue, ten at a time, until ``stop``."""
    chunks = [tasks[i : i + HAND_OVER_CHUNK] for i in range(0, len(tasks), HAND_OVER_CHUNK)]

    def one(chunk: list[Task]) -> list[Result]:
        if _past(stop):
            return [Result.NOT_STARTED] * len(chunk)
        results: list[Result] = []
        claimed: list[DeliveryKey] = []
        try:
            for task in chunk:
                if deliveries.queue(task.key, record_key):
                    claimed.append(task.key)
                else:
                    results.append(Result.DUPLICATE)
            refused = set(retries.hand_over(claimed, record_key))
        except Exception as exc:  # nothing of this chunk is known to be on the queue
            logger.error("could not hand deliveries over", extra={"error": jobs.describe(exc)})
            refused = set(claimed)
            results += [Result.NOT_STARTED] * (len(chunk) - len(results) - len(claimed))  # not even claimed
        for key in claimed:
            if key not in refused:
                results.append(Result.HANDED_OVER)
                continue
            try:  # unsent and on no queue: the change's redelivery claims it again
                deliveries.release(key, "queued", 0)
                results.append(Result.NOT_STARTED)
            except Exception as exc:  # left queued: the reconciler puts it on the queue
                logger.error("could not give a claim back", extra={**vars(key), "error": jobs.describe(exc)})
                results.append(Result.ERROR)
        return results

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(chunks)))) as pool:
        return [result for results in pool.map(one, chunks) for result in results]
