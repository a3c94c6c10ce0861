"""The web function's settings (see ``policywatch.core.settings``)."""

from __future__ import annotations

from dataclasses import dataclass

from policywatch.core.settings import Settings, env


@dataclass(frozen=True, kw_only=True)
class WebSettings(Settings):
    archive_bucket: str = env("ARCHIVE_BUCKET")
    subscribers_table: str = env("SUBSCRIBERS_TABLE")
    site_table: str = env("SITE_TABLE")
    documents_table: str = env("DOCUMENTS_TABLE")
    public_base_url: str = env("PUBLIC_BASE_URL", "")  # links on the pages; else the parameter's, else the host's
    public_base_url_parameter: str = env("PUBLIC_BASE_URL_PARAMETER", "")  # the stack's CloudFront address
    # Self-service (web.accounts): sign-up, the manage page, and what they send.
    accounts_table: str = env("ACCOUNTS_TABLE")
    deliveries_table: str = env("DELIVERIES_TABLE")
    sender_email: str = env("SENDER_EMAIL")
    site_secret: str = env("SITE_SECRET_ARN")  # signs links and CSRF tokens
    billing_secret: str = env("BILLING_SECRET_ARN")  # the billing system signs tier changes with it
    webhook_http_allowlist: str = env("WEBHOOK_HTTP_ALLOWLIST", "")
