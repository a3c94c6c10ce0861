"""Notify: change events start fan-outs; page jobs deliver one page of a fan-out each.

Two queues feed it: the NotifyQueue (change events, from the change topic) and the FanOutQueue
(page jobs: a page of one platform's subscribers, for a change, the weekly digest or an
effective-date reminder). One
message per invocation on the fan-out queue, so no invocation holds more than one page and the
queue's concurrency decides how many pages are delivered at once.
"""

import json
import time
from functools import lru_cache

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from policywatch.core.errors import TransientError
from policywatch.core.events import event_from_record, parse_change_event
from policywatch.core.settings import check_at_cold_start
from policywatch.notify import pages
from policywatch.notify.digest import DigestIncomplete, Week, deliver_digests
from policywatch.notify.dispatch import DeliveryOptions
from policywatch.notify.fanout import DEADLINE_MARGIN_SECONDS, deliver_change
from policywatch.notify.jobs import RetryQueue
from policywatch.notify.reminders import RemindersIncomplete, days_before_of, deliver_reminders
from policywatch.notify.settings import NotifySettings
from policywatch.storage.archive import Archive
from policywatch.storage.deliveries import Deliveries
from policywatch.storage.errors import StorageError
from policywatch.storage.fanouts import FanOuts
from policywatch.storage.queues import Queue
from policywatch.storage.subscribers import Subscribers
from policywatch.subscribers import Subscriber

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)
_deadline: float | None = None
PAGE_RETRY_SECONDS = 30  # a page that could not finish comes back this soon
check_at_cold_start(NotifySettings)


@lru_cache(maxsize=16)  # the pages of one fan-out come to the same instances
def _record(bucket: str, key: str) -> dict:
    return json.loads(Archive(bucket).get(key))


@lru_cache(maxsize=16)
def _change(table: str, fanout_id: str) -> dict:
    """The change event a fan-out delivers, as its ledger keeps it (its record may not be archived yet)."""
    summary = FanOuts(table).summary(fanout_id)
    if summary is None or "event" not in summary:
        raise pages.PageJobError(f"fan-out {fanout_id} has no change event in its ledger")
    return parse_change_event(summary["event"])


def record_handler(record: SQSRecord) -> None:
    config = NotifySettings.from_env()
    fanouts = FanOuts(config.deliveries_table, config.delivery_ttl_days)
    queue = Queue(config.fanout_queue_url)
    if not pages.is_page_job(record.body):  # a change event: start its fan-out
        change = parse_change_event(record.body)  # raw SNS delivery: the body is the change event
        if change.get("alert"):
            sent = pages.start(
                "alert",
                change["change_id"],
                change["record_key"],
                [change["platform"]],
                fanouts=fanouts,
                queue=queue,
                event=record.body,
            )
            logger.info("fan-out started", extra={"change_id": change["change_id"], "pages_sent": sent})
        return
    job = pages.read_job(record.body)
    subscribers = Subscribers(config.subscribers_table)
    deliveries = Deliveries(config.deliveries_table, config.delivery_ttl_days)
    # A send waiting for its slot gives up in time for the page to hand the rest over.
    send_deadline = None if _deadline is None else _deadline - DEADLINE_MARGIN_SECONDS / 2
    options = DeliveryOptions.from_settings(config, deadline=send_deadline)
    rerun = int(record.attributes.approximate_receive_count or 1) > 1  # the page ran before
    if job.kind == "alert":
        change = _change(config.deliveries_table, job.fanout_id)

        def deliver(watchers: list[Subscriber]) -> dict[str, int]:
            result = deliver_change(
                change,
                subscribers=subscribers,
                deliveries=deliveries,
                options=options,
                retries=RetryQueue.from_settings(config),
                concurrency=config.notify_concurrency,
                deadline=_deadline,
                watchers=watchers,
                rerun=rerun,
            )
            metrics.add_metric(name="DeliveriesSent", unit=MetricUnit.Count, value=result.sent)
            metrics.add_metric(name="DeliveriesRetrying", unit=MetricUnit.Count, value=result.retrying)
            metrics.add_metric(name="DeliveriesHandedOver", unit=MetricUnit.Count, value=result.handed_over)
            return {name: value for name, value in vars(result).items() if isinstance(value, int)}

    elif job.kind == "reminder":
        reminded = event_from_record(_record(config.archive_bucket, job.record_key), job.record_key)
        days_before = days_before_of(job.fanout_id)

        def deliver(watchers: list[Subscriber]) -> dict[str, int]:
            run = deliver_reminders(
                watchers,
                reminded,
                days_before,
                deliveries=deliveries,
                options=options,
                concurrency=config.notify_concurrency,
            )
            metrics.add_metric(name="RemindersSent", unit=MetricUnit.Count, value=len(run.sent))
            if run.failed:  # the queue brings the page back; what was sent is not sent again
                raise RemindersIncomplete(f"{run.failed} reminder(s) of page {job.page} failed")
            return run.counts()

    else:
        week = Week.from_dict(_record(config.archive_bucket, job.record_key))

        def deliver(watchers: list[Subscriber]) -> dict[str, int]:
            run = deliver_digests(
                watchers,
                job.platform,
                week,
                deliveries=deliveries,
                options=options,
                concurrency=config.notify_concurrency,
                rerun=rerun,
            )
            metrics.add_metric(name="DigestsSent", unit=MetricUnit.Count, value=len(run.sent))
            if run.failed:  # the queue brings the page back; what was sent is not sent again
                raise DigestIncomplete(f"{run.failed} digest(s) of page {job.page} of {job.platform} failed")
            return run.counts()

    try:
        pages.run_page(
            job,
            fanouts=fanouts,
            subscribers=subscribers,
            queue=queue,
            page_size=config.fanout_page_size,
            deliver=deliver,
        )
    except TransientError:
        # Back in PAGE_RETRY_SECONDS rather than the queue's visibility timeout (twelve minutes):
        # what went out is claimed, so the page's second run sends only what is left.
        try:
            queue.defer(record.receipt_handle, PAGE_RETRY_SECONDS)
        except StorageError as exc:
            logger.warning("could not bring the page back sooner", extra={"error": str(exc)})
        raise


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    global _deadline
    _deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
