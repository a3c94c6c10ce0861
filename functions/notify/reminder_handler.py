"""Reminder: a one-time schedule's reminder that a change takes effect in some days; starts its pages.

NotifyFunction sends the pages (one e-mail per entitled subscriber, claimed once each), as it does
an alert's.
"""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from policywatch.core.settings import check_at_cold_start
from policywatch.notify import pages
from policywatch.notify.reminders import delivery_id, plan_reminders
from policywatch.notify.settings import ReminderSettings
from policywatch.storage.archive import Archive
from policywatch.storage.fanouts import FanOuts
from policywatch.storage.queues import Queue
from policywatch.storage.site import SiteIndex

logger = Logger()
metrics = Metrics()
check_at_cold_start(ReminderSettings)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    """``event``: the schedule's input, ``{"record_key": "changes/...json", "days_before": 7}``."""
    config = ReminderSettings.from_env()
    record_key, days_before = str(event["record_key"]), int(event["days_before"])
    run, change = plan_reminders(
        record_key, days_before, archive=Archive(config.archive_bucket), site=SiteIndex(config.site_table)
    )
    fanout = delivery_id(run.change_id, days_before)
    if not run.skipped:  # run again (the schedule's retry), it starts only what is not done
        sent = pages.start(
            "reminder",
            fanout,
            record_key,
            [change["platform"]],
            fanouts=FanOuts(config.deliveries_table, config.delivery_ttl_days),
            queue=Queue(config.fanout_queue_url),
        )
        metrics.add_metric(name="ReminderPagesStarted", unit=MetricUnit.Count, value=sent)
    return {"change_id": run.change_id, "days_before": days_before, "skipped": run.skipped, "fanout": fanout}
