"""Diff: when a new version lands in the archive, record and publish what changed."""

from collections.abc import Iterator
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from policywatch.analysis.changes import process_version
from policywatch.analysis.settings import DiffSettings
from policywatch.core.settings import check_at_cold_start
from policywatch.storage.archive import Archive
from policywatch.storage.schedules import Schedules
from policywatch.storage.site import SiteIndex
from policywatch.storage.topics import Topic

logger = Logger()
metrics = Metrics()
check_at_cold_start(DiffSettings)


def new_objects(event: dict) -> Iterator[tuple[str, str]]:
    """(bucket, key) of each record of an S3 notification; S3 sends keys URL-encoded, spaces as "+".

    Read here rather than through Powertools' ``S3Event``: two fields, and its data classes add
    a tenth to this function's cold start.
    """
    for record in event.get("Records", []):
        s3 = record["s3"]
        yield s3["bucket"]["name"], unquote_plus(s3["object"]["key"])


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    settings = DiffSettings.from_env()
    topic, site = Topic(settings.change_topic_arn), SiteIndex(settings.site_table)
    schedules = (
        Schedules(settings.reminder_schedule_group, settings.reminder_function_arn, settings.reminder_role_arn)
        if settings.reminders
        else None
    )
    changes = []
    for bucket, key in new_objects(event):
        if not key.startswith("versions/"):
            logger.warning("ignoring an object outside versions/", extra={"key": key})
            continue
        change = process_version(Archive(bucket), key, topic, site=site, schedules=schedules)
        if change:
            changes.append(change["change_id"])
            metrics.add_metric(name="Changes", unit=MetricUnit.Count, value=1)
            if change["alert"]:
                metrics.add_metric(name="AlertingChanges", unit=MetricUnit.Count, value=1)
            if change.get("limits"):  # recorded, but analysed only in part (docs/diff.md, "Budgets")
                metrics.add_metric(name="LimitedChanges", unit=MetricUnit.Count, value=1)
    return {"changes": changes}
