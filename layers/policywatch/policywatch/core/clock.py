"""Time in one format everywhere: UTC, ISO 8601, seconds, 'Z'."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None = None) -> str:
    """'2025-08-29T00:32:02Z'."""
    return (moment or now()).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
