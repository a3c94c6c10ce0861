"""Sweep: on schedule (or on demand), enqueue one fetch job per tracked document."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from policywatch.core.settings import check_at_cold_start
from policywatch.fetch.settings import SweepSettings
from policywatch.fetch.sweep import current_catalog, enqueue
from policywatch.storage.archive import Archive
from policywatch.storage.queues import Queue

logger = Logger()
metrics = Metrics()
check_at_cold_start(SweepSettings)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    config = SweepSettings.from_env()
    catalog = current_catalog(Archive(config.archive_bucket))
    # The invocation's request id names the sweep: a retried invocation keeps it, so its
    # jobs are deduplicated by the FIFO queue; each scheduled or manual sweep gets a new one.
    count = enqueue(
        catalog,
        Queue(config.fetch_queue_url),
        sweep=context.aws_request_id,
        per_host=config.host_concurrency,
        render_queue=Queue(config.render_queue_url) if config.render_queue_url else None,
    )
    metrics.add_metric(name="FetchJobsEnqueued", unit=MetricUnit.Count, value=count)
    logger.info("sweep enqueued", extra={"documents": count, "platforms": len(catalog.platforms)})
    return {"documents": count, "platforms": len(catalog.platforms)}
