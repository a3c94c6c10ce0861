"""Reconcile: every few minutes, settle deliveries left unsettled past their time (see policywatch.notify.reconcile)."""

import time

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from policywatch.core.settings import check_at_cold_start
from policywatch.notify.jobs import RetryQueue
from policywatch.notify.reconcile import reconcile
from policywatch.notify.settings import ReconcileSettings
from policywatch.storage.deliveries import Deliveries

logger = Logger()
metrics = Metrics()
check_at_cold_start(ReconcileSettings)

MARGIN_SECONDS = 10  # stop taking records this long before the timeout: each costs two calls at most


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    config = ReconcileSettings.from_env()
    run = reconcile(
        deliveries=Deliveries(config.deliveries_table, config.delivery_ttl_days),
        retries=RetryQueue.from_settings(config),
        deadline=time.monotonic() + context.get_remaining_time_in_millis() / 1000 - MARGIN_SECONDS,
    )
    metrics.add_metric(name="DeliveriesStuck", unit=MetricUnit.Count, value=run.stuck)
    metrics.add_metric(name="DeliveriesResent", unit=MetricUnit.Count, value=run.resent)
    metrics.add_metric(name="DeliveriesInterrupted", unit=MetricUnit.Count, value=run.interrupted)
    return run.counts()
