"""Fetch: for each job on the FetchQueue, fetch the document and archive what changed.

The batch's message groups (one per host slot) run in parallel; see policywatch.fetch.jobs.
Every job's fetch ends in time to record its outcome before Lambda's own timeout: the
deadlines derive from the time this invocation has left.
"""

import time

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from policywatch.core.settings import check_at_cold_start
from policywatch.fetch.archivist import Archivist
from policywatch.fetch.jobs import count, run_jobs
from policywatch.fetch.settings import FetchSettings
from policywatch.storage.queues import Queue

logger = Logger()
metrics = Metrics()
check_at_cold_start(FetchSettings)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    config = FetchSettings.from_env()
    report = run_jobs(
        event.get("Records", []),
        Archivist.of_function(config),
        queue=Queue(config.fetch_queue_url) if config.fetch_queue_url else None,
        deadline=time.monotonic() + context.get_remaining_time_in_millis() / 1000,  # the invocation's end
    )
    count(report, metrics)
    return report.response()
