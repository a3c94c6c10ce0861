"""The diff function's settings (see ``policywatch.core.settings``)."""

from __future__ import annotations

from dataclasses import dataclass

from policywatch.core.settings import Settings, env


@dataclass(frozen=True, kw_only=True)
class DiffSettings(Settings):
    change_topic_arn: str = env("CHANGE_TOPIC_ARN")
    site_table: str = env("SITE_TABLE")
