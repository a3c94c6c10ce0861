"""Notify: for each change event on the NotifyQueue, alert the platform's subscribers."""

import time

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from policywatch.core.events import parse_change_event
from policywatch.core.settings import check_at_cold_start
from policywatch.notify.dispatch import DeliveryOptions
from policywatch.notify.fanout import deliver_change
from policywatch.notify.jobs import RetryQueue
from policywatch.notify.settings import NotifySettings
from policywatch.storage.deliveries import Deliveries
from policywatch.storage.subscribers import Subscribers

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)
_deadline: float | None = None
check_at_cold_start(NotifySettings)


def record_handler(record: SQSRecord) -> None:
    config = NotifySettings.from_env()
    change = parse_change_event(record.body)  # raw SNS delivery: the body is the change event
    result = deliver_change(
        change,
        subscribers=Subscribers(config.subscribers_table),
        deliveries=Deliveries(config.deliveries_table, config.delivery_ttl_days),
        options=DeliveryOptions.from_settings(config),
        retries=RetryQueue.from_settings(config),
        concurrency=config.notify_concurrency,
        deadline=_deadline,
    )
    metrics.add_metric(name="DeliveriesSent", unit=MetricUnit.Count, value=result.sent)
    metrics.add_metric(name="DeliveriesRetrying", unit=MetricUnit.Count, value=result.retrying)
    metrics.add_metric(name="DeliveriesHandedOver", unit=MetricUnit.Count, value=result.handed_over)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    global _deadline
    _deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
