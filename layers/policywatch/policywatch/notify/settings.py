"""The notification functions' settings, composed of what each part needs (see ``policywatch.core.settings``)."""

from __future__ import annotations

from dataclasses import dataclass

from policywatch.core.settings import Settings, env


@dataclass(frozen=True, kw_only=True)
class ChannelSettings(Settings):
    """How subscribers are reached."""

    sender_email: str = env("SENDER_EMAIL")
    public_base_url: str = env("PUBLIC_BASE_URL", "")  # the web function's URL: links in alerts
    webhook_http_allowlist: str = env("WEBHOOK_HTTP_ALLOWLIST", "")  # host:port receivers allowed over http
    webhook_connect_timeout: float = env("WEBHOOK_CONNECT_TIMEOUT_MS", 3.0, per=1000)
    webhook_read_timeout: float = env("WEBHOOK_READ_TIMEOUT_MS", 10.0, per=1000)
    webhook_deadline: float = env("WEBHOOK_DEADLINE_MS", 10.0, per=1000)  # a whole attempt
    # Send pacing (policywatch.notify.pacing): the table the shared schedule lives in ("": unpaced),
    # and caps on the rates. Email: SES's account quota (GetSendQuota) unless capped lower; SMS:
    # SNS has no quota API, so the rate is this setting (AWS's default SMS quota is 20 a second).
    send_rate_table: str = env("SEND_RATE_TABLE", "")
    email_send_rate: float = env("EMAIL_SEND_RATE", 0.0)  # a second; 0: the account's quota
    sms_send_rate: float = env("SMS_SEND_RATE", 20.0)  # a second


@dataclass(frozen=True, kw_only=True)
class RetrySettings(Settings):
    """The delivery queue: one job per attempt still to make."""

    delivery_queue_url: str = env("DELIVERY_QUEUE_URL")
    delivery_dead_letter_url: str = env("DELIVERY_DLQ_URL")
    delivery_attempts: int = env("DELIVERY_ATTEMPTS", 6)  # the first, then five from the delivery queue
    delivery_backoff_base: float = env("DELIVERY_BACKOFF_BASE_SECONDS", 30.0)


@dataclass(frozen=True, kw_only=True)
class TableSettings(Settings):
    subscribers_table: str = env("SUBSCRIBERS_TABLE")
    deliveries_table: str = env("DELIVERIES_TABLE")
    delivery_ttl_days: int = env("DELIVERY_TTL_DAYS", 400)


@dataclass(frozen=True, kw_only=True)
class FanOutSettings(Settings):
    """The fan-out queue: one job per page of a platform's subscribers."""

    fanout_queue_url: str = env("FANOUT_QUEUE_URL")
    fanout_page_size: int = env("FANOUT_PAGE_SIZE", 100)  # subscribers a page job delivers to
    archive_bucket: str = env("ARCHIVE_BUCKET")  # change records and digests, read by the pages


@dataclass(frozen=True, kw_only=True)
class NotifySettings(ChannelSettings, RetrySettings, TableSettings, FanOutSettings):
    notify_concurrency: int = env("NOTIFY_CONCURRENCY", 16)  # deliveries in flight per invocation


@dataclass(frozen=True, kw_only=True)
class DeliverySettings(ChannelSettings, RetrySettings, TableSettings):
    archive_bucket: str = env("ARCHIVE_BUCKET")


@dataclass(frozen=True, kw_only=True)
class DigestSettings(ChannelSettings, TableSettings, FanOutSettings):
    site_table: str = env("SITE_TABLE", "")  # the read model: changes coming into effect (none listed without it)


@dataclass(frozen=True, kw_only=True)
class ReminderSettings(ChannelSettings, TableSettings, FanOutSettings):
    site_table: str = env("SITE_TABLE")  # whether a later change superseded the reminded one


@dataclass(frozen=True, kw_only=True)
class ReconcileSettings(RetrySettings, TableSettings):
    pass
