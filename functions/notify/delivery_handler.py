"""Delivery retries: each message on the DeliveryQueue is one more attempt of one failed delivery."""

import json
import time
from functools import lru_cache

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from policywatch.core.errors import InputError, TransientError
from policywatch.core.events import event_from_record
from policywatch.core.settings import check_at_cold_start
from policywatch.notify.dispatch import DeliveryOptions
from policywatch.notify.jobs import RetryQueue
from policywatch.notify.retries import RedeliveryOutcome, redeliver
from policywatch.notify.settings import DeliverySettings
from policywatch.storage.archive import Archive
from policywatch.storage.deliveries import Deliveries
from policywatch.storage.errors import StorageError
from policywatch.storage.subscribers import Subscribers

logger = Logger()
metrics = Metrics()
check_at_cold_start(DeliverySettings)
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)  # retries are routine here
SEND_MARGIN_SECONDS = 15  # a webhook attempt's deadline (10 s) and the records after it
_send_deadline: float | None = None


class RetryLater(TransientError):
    """Reported as a batch item failure: the queue brings the job back after its backoff."""


@lru_cache(maxsize=32)  # a batch usually holds retries of the same few changes
def _change(bucket: str, record_key: str) -> dict:
    return event_from_record(json.loads(Archive(bucket).get(record_key)), record_key)


def record_handler(record: SQSRecord) -> None:
    config = DeliverySettings.from_env()
    retries = RetryQueue.from_settings(config)
    bucket = config.archive_bucket
    try:
        result = redeliver(
            record.body,
            int(record.attributes.approximate_receive_count),
            subscribers=Subscribers(config.subscribers_table),
            deliveries=Deliveries(config.deliveries_table, config.delivery_ttl_days),
            options=DeliveryOptions.from_settings(config, deadline=_send_deadline),
            retries=retries,
            load_change=lambda key: _change(bucket, key),
        )
    except InputError as exc:  # no retry can mend it: straight to the dead-letter queue, with why
        logger.error("delivery job refused", extra={"message_id": record.message_id, "error": str(exc)})
        retries.dead_letter(record.body, str(exc))
        return
    metrics.add_metric(name=f"Redeliveries{result.outcome.value.title()}", unit=MetricUnit.Count, value=1)
    # RESCHEDULED: a new job carries the delivery on; this message is done.
    if result.outcome is RedeliveryOutcome.RETRY:
        try:
            retries.queue.defer(record.receipt_handle, int(result.retry_in))
        except StorageError as exc:  # the retry still happens, on the queue's own visibility timeout
            logger.warning("could not set the retry delay", extra={"error": str(exc)})
        raise RetryLater(f"attempt {result.attempt} failed: {result.reason}")


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    global _send_deadline
    # A send waiting for its slot gives up in time to reschedule its job (SEND_MARGIN_SECONDS before the end).
    _send_deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - SEND_MARGIN_SECONDS
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
