"""Fetch: for each job on the FetchQueue, fetch the document and archive what changed.

The batch's message groups (one per host slot) run in parallel; see policywatch.fetch.jobs.
Every job's fetch ends in time to record its outcome before Lambda's own timeout: the
deadlines derive from the time this invocation has left.
"""

import json
import time

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from policywatch.catalog import Document
from policywatch.core.settings import check_at_cold_start
from policywatch.fetch.alerts import OperatorAlerts
from policywatch.fetch.archivist import Archivist, FetchOutcome
from policywatch.fetch.jobs import run_batch
from policywatch.fetch.settings import FetchSettings
from policywatch.storage.archive import Archive
from policywatch.storage.documents import DocumentStates
from policywatch.storage.queues import Queue
from policywatch.storage.topics import Topic

logger = Logger()
metrics = Metrics()
check_at_cold_start(FetchSettings)

_METRICS = {
    "new-version": "VersionsArchived",
    "unchanged": "DocumentsUnchanged",
    "not-modified": "DocumentsUnchanged",
    "failed": "ExtractionFailures",
    "needs-browser": "NeedsBrowser",
}
_ALERT_METRICS = {"failing": "DocumentsFailing", "recovered": "DocumentsRecovered"}


def _archivist(config: FetchSettings) -> Archivist:
    return Archivist(
        archive=Archive(config.archive_bucket),
        states=DocumentStates(config.documents_table),
        settings=config,
        alerts=OperatorAlerts(Topic(config.operator_topic_arn)) if config.operator_topic_arn else None,
    )


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    config = FetchSettings.from_env()
    archivist = _archivist(config)
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000  # the invocation's end

    def work(record: dict, job_deadline: float | None) -> FetchOutcome:
        document = Document.from_job(record["body"])
        sweep = json.loads(record["body"]).get("sweep")
        return archivist.run(document, sweep=sweep, deadline=job_deadline)

    report = run_batch(
        event.get("Records", []),
        work,
        queue=Queue(config.fetch_queue_url) if config.fetch_queue_url else None,
        deadline=deadline,
    )
    for outcome in report.outcomes:
        metrics.add_metric(name=_METRICS[outcome.status], unit=MetricUnit.Count, value=1)
        if outcome.alert:
            metrics.add_metric(name=_ALERT_METRICS[outcome.alert], unit=MetricUnit.Count, value=1)
    if report.failures:
        metrics.add_metric(name="FetchRetries", unit=MetricUnit.Count, value=len(report.failures))
    return report.response()
