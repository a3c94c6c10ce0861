"""Configuration from environment variables, read in one place (the template sets them)."""

from __future__ import annotations

import os
from dataclasses import dataclass


class ConfigError(RuntimeError):
    """A required environment variable is missing or malformed."""


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name} must be an integer, got {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    archive_bucket: str
    documents_table: str
    subscribers_table: str
    deliveries_table: str
    fetch_queue_url: str
    change_topic_arn: str
    operator_topic_arn: str
    sender_email: str
    user_agent: str
    max_page_bytes: int
    connect_timeout: float
    read_timeout: float
    min_text_chars: int
    delivery_ttl_days: int
    failure_alert_after: int
    fetch_attempts: int
    retry_base_delay: float
    host_concurrency: int
    fetch_allowlist: str
    fetch_budget: float
    delivery_queue_url: str
    delivery_dead_letter_url: str
    public_base_url: str
    webhook_http_allowlist: str
    webhook_connect_timeout: float
    webhook_read_timeout: float
    webhook_deadline: float
    delivery_attempts: int
    delivery_backoff_base: float
    notify_concurrency: int


def settings() -> Settings:
    """Read the settings now. Variables a given function does not use may be absent."""
    return Settings(
        archive_bucket=os.environ.get("ARCHIVE_BUCKET", ""),
        documents_table=os.environ.get("DOCUMENTS_TABLE", ""),
        subscribers_table=os.environ.get("SUBSCRIBERS_TABLE", ""),
        deliveries_table=os.environ.get("DELIVERIES_TABLE", ""),
        fetch_queue_url=os.environ.get("FETCH_QUEUE_URL", ""),
        change_topic_arn=os.environ.get("CHANGE_TOPIC_ARN", ""),
        operator_topic_arn=os.environ.get("OPERATOR_TOPIC_ARN", ""),
        sender_email=os.environ.get("SENDER_EMAIL", ""),
        user_agent=os.environ.get("USER_AGENT", ""),  # empty: the fetcher's default, which names the version
        max_page_bytes=_int("MAX_PAGE_BYTES", 5 * 1024 * 1024),
        connect_timeout=_int("CONNECT_TIMEOUT_SECONDS", 5),
        read_timeout=_int("READ_TIMEOUT_SECONDS", 20),
        min_text_chars=_int("MIN_TEXT_CHARS", 500),
        delivery_ttl_days=_int("DELIVERY_TTL_DAYS", 400),
        failure_alert_after=_int("FAILURE_ALERT_AFTER", 3),  # sweeps in a row
        fetch_attempts=_int("FETCH_ATTEMPTS", 3),  # within one invocation; then the queue retries
        retry_base_delay=_int("RETRY_BASE_DELAY_MS", 1000) / 1000,
        host_concurrency=_int("HOST_CONCURRENCY", 2),  # concurrent requests per host, at most
        fetch_allowlist=os.environ.get("FETCH_ALLOWLIST", ""),  # host:port fetched over http, at private addresses
        fetch_budget=_int("FETCH_BUDGET_SECONDS", 60),  # one document's fetch, retries included, at most
        delivery_queue_url=os.environ.get("DELIVERY_QUEUE_URL", ""),
        delivery_dead_letter_url=os.environ.get("DELIVERY_DLQ_URL", ""),
        public_base_url=os.environ.get("PUBLIC_BASE_URL", ""),  # the web function's URL: links in alerts
        webhook_http_allowlist=os.environ.get("WEBHOOK_HTTP_ALLOWLIST", ""),  # host:port receivers allowed over http
        webhook_connect_timeout=_int("WEBHOOK_CONNECT_TIMEOUT_MS", 3000) / 1000,
        webhook_read_timeout=_int("WEBHOOK_READ_TIMEOUT_MS", 10000) / 1000,
        webhook_deadline=_int("WEBHOOK_DEADLINE_MS", 10000) / 1000,  # a whole attempt, however the receiver trickles
        delivery_attempts=_int("DELIVERY_ATTEMPTS", 6),  # the first, then five from the delivery queue
        delivery_backoff_base=_int("DELIVERY_BACKOFF_BASE_SECONDS", 30),
        notify_concurrency=_int("NOTIFY_CONCURRENCY", 16),  # deliveries in flight per invocation
    )


def require(value: str, name: str) -> str:
    """Fail clearly when a setting this code path needs is missing."""
    if not value:
        raise ConfigError(f"environment variable {name} is not set")
    return value
