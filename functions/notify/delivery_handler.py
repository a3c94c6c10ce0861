"""Delivery retries: each message on the DeliveryQueue is one more attempt of one failed delivery."""

from functools import lru_cache

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from policywatch.analysis.changes import load_event
from policywatch.core.settings import require, settings
from policywatch.fetch.jobs import defer
from policywatch.notify.dispatch import Channels
from policywatch.notify.retries import DeliveryJobError, Outcome, RetryQueue, redeliver
from policywatch.storage.archive import Archive
from policywatch.storage.deliveries import Deliveries
from policywatch.subscribers import Subscribers

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)  # retries are routine here


class RetryLater(Exception):
    """Reported as a batch item failure: the queue brings the job back after its backoff."""


@lru_cache(maxsize=32)  # a batch usually holds retries of the same few changes
def _change(bucket: str, record_key: str) -> dict:
    return load_event(Archive(bucket), record_key)


def record_handler(record: SQSRecord) -> None:
    config = settings()
    retries = RetryQueue.from_settings(config)
    bucket = require(config.archive_bucket, "ARCHIVE_BUCKET")
    try:
        result = redeliver(
            record.body,
            int(record.attributes.approximate_receive_count),
            subscribers=Subscribers(require(config.subscribers_table, "SUBSCRIBERS_TABLE")),
            deliveries=Deliveries(require(config.deliveries_table, "DELIVERIES_TABLE"), config.delivery_ttl_days),
            channels=Channels.from_settings(config),
            retries=retries,
            load_change=lambda key: _change(bucket, key),
        )
    except DeliveryJobError as exc:  # no retry can mend it: straight to the dead-letter queue, with why
        logger.error("not a delivery job", extra={"message_id": record.message_id, "error": str(exc)})
        retries.dead_letter(record.body, str(exc))
        return
    metrics.add_metric(name=f"Redeliveries{result.outcome.value.title()}", unit=MetricUnit.Count, value=1)
    # RESCHEDULED: a new job carries the delivery on; this message is done.
    if result.outcome is Outcome.RETRY:
        defer(record.raw_event, retries.queue_url, int(result.retry_in))
        raise RetryLater(f"attempt {result.attempt} failed: {result.reason}")


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
