"""Diff: when a new version lands in the archive, record and publish what changed."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from policywatch.analysis.changes import process_version
from policywatch.analysis.settings import DiffSettings
from policywatch.core.settings import check_at_cold_start
from policywatch.storage.archive import Archive
from policywatch.storage.topics import Topic

logger = Logger()
metrics = Metrics()
check_at_cold_start(DiffSettings)


@logger.inject_lambda_context
@metrics.log_metrics
@event_source(data_class=S3Event)
def handler(event: S3Event, context: LambdaContext) -> dict:
    topic = Topic(DiffSettings.from_env().change_topic_arn)
    changes = []
    for record in event.records:
        key = record.s3.get_object.key
        if not key.startswith("versions/"):
            logger.warning("ignoring an object outside versions/", extra={"key": key})
            continue
        change = process_version(Archive(record.s3.bucket.name), key, topic)
        if change:
            changes.append(change["change_id"])
            metrics.add_metric(name="Changes", unit=MetricUnit.Count, value=1)
            if change["alert"]:
                metrics.add_metric(name="AlertingChanges", unit=MetricUnit.Count, value=1)
            if change.get("limits"):  # recorded, but analysed only in part (docs/diff.md, "Budgets")
                metrics.add_metric(name="LimitedChanges", unit=MetricUnit.Count, value=1)
    return {"changes": changes}
