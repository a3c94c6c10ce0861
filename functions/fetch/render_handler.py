"""Render: for each job on the RenderQueue, render the document's pages in headless Chromium,
then extract and archive what changed exactly as the fetch function does.

The browser is launched on the first job and kept by the warm container (``Renderer``):
restarted after ``RENDER_MAX_PAGES`` pages or after a crash. Jobs of one batch share it, one
page at a time; more pages at once means more containers (the event source's concurrency).
"""

import time

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from policywatch.core.settings import check_at_cold_start
from policywatch.fetch.archivist import Archivist, fetch_allowlist
from policywatch.fetch.fetcher import default_user_agent
from policywatch.fetch.jobs import count, run_jobs
from policywatch.fetch.render import Renderer, RenderSettings
from policywatch.fetch.settings import RenderFunctionSettings
from policywatch.storage.queues import Queue

logger = Logger()
metrics = Metrics()
check_at_cold_start(RenderFunctionSettings)
_renderer: Renderer | None = None


def renderer(config: RenderFunctionSettings) -> Renderer:
    """The container's one browser, made on first use and kept while the container is warm."""
    global _renderer
    if _renderer is None:
        _renderer = Renderer(
            RenderSettings(
                executable=config.chromium_path,
                page_seconds=config.render_page_seconds,
                settle_seconds=config.render_settle_seconds,
                max_pages=config.render_max_pages,
                max_bytes=config.max_page_bytes,
                user_agent=config.user_agent or default_user_agent(),  # the honest one, as plain fetches send
            ),
            allowlist=fetch_allowlist(config.fetch_allowlist),
        )
    return _renderer


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    config = RenderFunctionSettings.from_env()
    report = run_jobs(
        event.get("Records", []),
        Archivist.of_function(config, renderer(config)),
        queue=Queue(config.fetch_queue_url) if config.fetch_queue_url else None,
        deadline=time.monotonic() + context.get_remaining_time_in_millis() / 1000,
    )
    count(report, metrics)
    return report.response()
