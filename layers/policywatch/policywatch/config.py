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
    )


def require(value: str, name: str) -> str:
    """Fail clearly when a setting this code path needs is missing."""
    if not value:
        raise ConfigError(f"environment variable {name} is not set")
    return value
