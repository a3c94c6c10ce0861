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
    public_base_url: str = env("PUBLIC_BASE_URL", "")  # links on the pages; else the request's own host
