"""Time in one format everywhere: UTC, ISO 8601 to the second, 'Z'."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from policywatch.core import clock


def test_now_is_aware_and_in_utc():
    moment = clock.now()
    assert moment.tzinfo is UTC
    assert abs(moment - datetime.now(UTC)) < timedelta(seconds=5)


def test_iso_is_utc_to_the_second_with_a_z():
    assert clock.iso(datetime(2025, 8, 29, 0, 32, 2, 999_999, tzinfo=UTC)) == "2025-08-29T00:32:02Z"


def test_iso_converts_other_zones_to_utc():
    paris = timezone(timedelta(hours=2))
    assert clock.iso(datetime(2025, 8, 29, 2, 32, 2, tzinfo=paris)) == "2025-08-29T00:32:02Z"


def test_iso_of_nothing_is_now():
    stamp = clock.iso()
    assert stamp.endswith("Z") and len(stamp) == len("2025-08-29T00:32:02Z")
    assert abs(datetime.fromisoformat(stamp) - datetime.now(UTC)) < timedelta(seconds=5)
