"""Notify: for each change event on the NotifyQueue, alert the platform's subscribers."""

import time

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from policywatch.core.settings import require, settings
from policywatch.notify.dispatch import Channels
from policywatch.notify.fanout import deliver_change, parse_change_event
from policywatch.notify.retries import RetryQueue
from policywatch.storage.deliveries import Deliveries
from policywatch.subscribers import Subscribers

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)
_deadline: float | None = None


def record_handler(record: SQSRecord) -> None:
    config = settings()
    change = parse_change_event(record.body)  # raw SNS delivery: the body is the change event
    result = deliver_change(
        change,
        subscribers=Subscribers(require(config.subscribers_table, "SUBSCRIBERS_TABLE")),
        deliveries=Deliveries(require(config.deliveries_table, "DELIVERIES_TABLE"), config.delivery_ttl_days),
        channels=Channels.from_settings(config),
        retries=RetryQueue.from_settings(config),
        concurrency=config.notify_concurrency,
        deadline=_deadline,
    )
    metrics.add_metric(name="DeliveriesSent", unit=MetricUnit.Count, value=result.sent)
    metrics.add_metric(name="DeliveriesRetrying", unit=MetricUnit.Count, value=result.retrying)
    metrics.add_metric(name="DeliveriesHandedOver", unit=MetricUnit.Count, value=result.handed_over)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    global _deadline
    _deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
