"""The fetch stage's settings: what the archivist needs, and each function's (see ``policywatch.core.settings``)."""

from __future__ import annotations

from dataclasses import dataclass

from policywatch.core.settings import Settings, env


@dataclass(frozen=True, kw_only=True)
class ArchivistSettings(Settings):
    """How documents are fetched and checked; every field has the product's default."""

    user_agent: str = env("USER_AGENT", "")  # empty: the fetcher's default, which names the version
    max_page_bytes: int = env("MAX_PAGE_BYTES", 5 * 1024 * 1024)
    connect_timeout: float = env("CONNECT_TIMEOUT_SECONDS", 5.0)
    read_timeout: float = env("READ_TIMEOUT_SECONDS", 20.0)
    min_text_chars: int = env("MIN_TEXT_CHARS", 500)
    failure_alert_after: int = env("FAILURE_ALERT_AFTER", 3)  # sweeps in a row
    fetch_attempts: int = env("FETCH_ATTEMPTS", 3)  # within one invocation; then the queue retries
    retry_base_delay: float = env("RETRY_BASE_DELAY_MS", 1.0, per=1000)
    fetch_allowlist: str = env("FETCH_ALLOWLIST", "")  # host:port fetched over http, at private addresses
    fetch_budget: float = env("FETCH_BUDGET_SECONDS", 60.0)  # one document's fetch, retries included, at most


@dataclass(frozen=True, kw_only=True)
class FetchSettings(ArchivistSettings):
    archive_bucket: str = env("ARCHIVE_BUCKET")
    documents_table: str = env("DOCUMENTS_TABLE")
    fetch_queue_url: str = env("FETCH_QUEUE_URL", "")  # retries are deferred on it; without it, its own timeout
    operator_topic_arn: str = env("OPERATOR_TOPIC_ARN", "")  # no operator alerts without it


@dataclass(frozen=True, kw_only=True)
class RenderFunctionSettings(FetchSettings):
    """The render function's: a fetch function whose pages a headless Chromium renders
    (its FETCH_QUEUE_URL is the render queue its jobs come from)."""

    chromium_path: str = env("CHROMIUM_PATH", "")  # empty: Playwright's own lookup
    render_page_seconds: float = env("RENDER_PAGE_SECONDS", 30.0)  # to load and show the selector
    render_settle_seconds: float = env("RENDER_SETTLE_SECONDS", 2.0)  # network quiet after that, at most
    render_max_pages: int = env("RENDER_MAX_PAGES", 50)  # pages per browser before a restart


@dataclass(frozen=True, kw_only=True)
class SweepSettings(Settings):
    archive_bucket: str = env("ARCHIVE_BUCKET")
    fetch_queue_url: str = env("FETCH_QUEUE_URL")
    render_queue_url: str = env("RENDER_QUEUE_URL", "")  # browser documents; without it, the fetch queue's
    host_concurrency: int = env("HOST_CONCURRENCY", 2)  # concurrent requests per host, at most
