"""Digest: every Monday, plan last week's digest and start its fan-out (the pages are sent by NotifyFunction)."""

from datetime import datetime

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from policywatch.core.settings import check_at_cold_start
from policywatch.notify import pages
from policywatch.notify.digest import plan_week
from policywatch.notify.settings import DigestSettings
from policywatch.storage.archive import Archive
from policywatch.storage.fanouts import FanOuts
from policywatch.storage.queues import Queue
from policywatch.storage.site import SiteIndex

logger = Logger()
metrics = Metrics()
check_at_cold_start(DigestSettings)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    config = DigestSettings.from_env()
    # The schedule's own time, not the invocation's: a retried Monday run still plans the same week,
    # and starts only the pages that are not done.
    scheduled = event.get("time")
    archive = Archive(config.archive_bucket)
    week = plan_week(
        archive,
        datetime.fromisoformat(scheduled) if scheduled else None,
        SiteIndex(config.site_table) if config.site_table else None,
    )
    if week.platforms:
        archive.put_json(week.key, week.to_dict())
    sent = pages.start(
        "digest",
        week.fanout_id,
        week.key,
        week.platforms,
        fanouts=FanOuts(config.deliveries_table, config.delivery_ttl_days),
        queue=Queue(config.fanout_queue_url),
    )
    metrics.add_metric(name="DigestPagesStarted", unit=MetricUnit.Count, value=sent)
    changes = sum(len(c) for c in week.changes.values())
    logger.info("digest planned", extra={"week": week.week, "changes": changes, "platforms": len(week.platforms)})
    return {"week": week.week, "changes": changes, "platforms": week.platforms, "fanout": week.fanout_id}
