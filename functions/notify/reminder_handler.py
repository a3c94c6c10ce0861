"""Reminder: a one-time schedule's reminder that a change takes effect in some days, e-mailed once per subscriber."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from policywatch.core.settings import check_at_cold_start
from policywatch.notify.dispatch import DeliveryOptions
from policywatch.notify.reminders import RemindersIncomplete, send_reminders
from policywatch.notify.settings import ReminderSettings
from policywatch.storage.archive import Archive
from policywatch.storage.deliveries import Deliveries
from policywatch.storage.site import SiteIndex
from policywatch.storage.subscribers import Subscribers

logger = Logger()
metrics = Metrics()
check_at_cold_start(ReminderSettings)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    """``event``: the schedule's input, ``{"record_key": "changes/...json", "days_before": 7}``."""
    config = ReminderSettings.from_env()
    run = send_reminders(
        record_key=str(event["record_key"]),
        days_before=int(event["days_before"]),
        archive=Archive(config.archive_bucket),
        site=SiteIndex(config.site_table),
        subscribers=Subscribers(config.subscribers_table),
        deliveries=Deliveries(config.deliveries_table, config.delivery_ttl_days),
        options=DeliveryOptions.from_settings(config),
    )
    metrics.add_metric(name="RemindersSent", unit=MetricUnit.Count, value=len(run.sent))
    if run.failed:  # the invocation is retried; what was sent is not sent again
        raise RemindersIncomplete(f"{run.failed} reminder(s) of {run.change_id} failed")
    return {
        "change_id": run.change_id,
        "days_before": run.days_before,
        "sent": len(run.sent),
        "duplicates": run.duplicates,
        "skipped": run.skipped,
    }
