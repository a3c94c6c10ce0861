"""Digest: every Monday, email tiers without same-day alerts their week's changes."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from policywatch.archive import Archive
from policywatch.config import require, settings
from policywatch.deliveries import Deliveries
from policywatch.digest import send_digests
from policywatch.subscribers import Subscribers

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    config = settings()
    run = send_digests(
        archive=Archive(require(config.archive_bucket, "ARCHIVE_BUCKET")),
        subscribers=Subscribers(require(config.subscribers_table, "SUBSCRIBERS_TABLE")),
        deliveries=Deliveries(require(config.deliveries_table, "DELIVERIES_TABLE"), config.delivery_ttl_days),
        sender=require(config.sender_email, "SENDER_EMAIL"),
    )
    metrics.add_metric(name="DigestsSent", unit=MetricUnit.Count, value=len(run.sent))
    return {"sent": len(run.sent), "empty": run.empty, "duplicates": run.duplicates}
