"""Digest: every Monday, email last week's substantive changes to the subscribers who take the digest."""

from datetime import datetime

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from policywatch.core.settings import check_at_cold_start
from policywatch.notify.digest import DigestIncomplete, send_digests
from policywatch.notify.dispatch import DeliveryOptions
from policywatch.notify.settings import DigestSettings
from policywatch.storage.archive import Archive
from policywatch.storage.deliveries import Deliveries
from policywatch.storage.site import SiteIndex
from policywatch.storage.subscribers import Subscribers

logger = Logger()
metrics = Metrics()
check_at_cold_start(DigestSettings)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    config = DigestSettings.from_env()
    # The schedule's own time, not the invocation's: a retried Monday run still summarises the same week.
    scheduled = event.get("time")
    run = send_digests(
        archive=Archive(config.archive_bucket),
        subscribers=Subscribers(config.subscribers_table),
        deliveries=Deliveries(config.deliveries_table, config.delivery_ttl_days),
        options=DeliveryOptions.from_settings(config),
        now=datetime.fromisoformat(scheduled) if scheduled else None,
        site=SiteIndex(config.site_table) if config.site_table else None,
    )
    metrics.add_metric(name="DigestsSent", unit=MetricUnit.Count, value=len(run.sent))
    if run.failed:  # the schedule retries the invocation; what was sent is not sent again
        raise DigestIncomplete(f"{run.failed} digest(s) of week {run.week} failed")
    return {"week": run.week, "changes": run.changes, "sent": len(run.sent), "duplicates": run.duplicates}
