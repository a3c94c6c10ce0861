"""Effective-date reminders: their names and moments, and which changes schedule or cancel them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from policywatch.analysis.reminders import reminders_for, update_reminders
from policywatch.storage.errors import StorageError
from policywatch.storage.schedules import Reminder, document_prefix

KEY = "changes/anthropic/privacy-policy/2025-08-29T003205.000Z.json"
PUBLISHED = datetime(2025, 8, 29, 0, 32, tzinfo=UTC)


def _record(kind: str = "substantive", effective: str | None = "2025-09-28") -> dict:
    return {
        "change_id": "c1",
        "platform": "anthropic",
        "document": "privacy-policy",
        "kind": kind,
        "alert": kind == "substantive",
        "effective_date": effective,
    }


class FakeSchedules:
    def __init__(self, pending: list[str] = (), fail: bool = False) -> None:
        self.pending, self.fail = list(pending), fail
        self.cancelled: list[str] = []
        self.created: list[Reminder] = []

    def cancel_document(self, document_key: str) -> list[str]:
        if self.fail:
            raise StorageError("ListSchedules", "ThrottlingException", "slow down")
        self.cancelled.append(document_key)
        gone, self.pending = self.pending, []
        return gone

    def schedule(self, reminder: Reminder) -> bool:
        self.created.append(reminder)
        return True

    def names(self, document_key: str) -> list[str]:
        return list(self.pending)


def test_a_reminder_is_named_by_its_document_date_and_lead():
    (week, day) = reminders_for(_record(), KEY, PUBLISHED)
    prefix = document_prefix("anthropic/privacy-policy")
    assert len(prefix) == 13 and prefix.endswith("-")
    assert (week.name, day.name) == (f"{prefix}2025-09-28-7d", f"{prefix}2025-09-28-1d")
    assert len(week.name) <= 64
    assert document_prefix("anthropic/terms-of-service") != prefix


def test_reminders_are_at_eight_utc_seven_days_and_one_day_before():
    week, day = reminders_for(_record(), KEY, PUBLISHED)
    assert (week.expression, day.expression) == ("at(2025-09-21T08:00:00)", "at(2025-09-27T08:00:00)")
    assert week.input == {"record_key": KEY, "days_before": 7}


@pytest.mark.parametrize(
    ("now", "leads"),
    [
        (datetime(2025, 9, 21, 7, 59, tzinfo=UTC), [7, 1]),
        (datetime(2025, 9, 21, 8, 0, tzinfo=UTC), [1]),  # the week's reminder is already due: skipped
        (datetime(2025, 9, 27, 9, 0, tzinfo=UTC), []),
        (datetime(2025, 10, 1, tzinfo=UTC), []),  # took effect already
    ],
)
def test_a_moment_already_past_is_skipped(now, leads):
    assert [r.days_before for r in reminders_for(_record(), KEY, now)] == leads


@pytest.mark.parametrize("effective", [None, "", "not a date"])
def test_no_effective_date_no_reminders(effective):
    assert reminders_for(_record(effective=effective), KEY, PUBLISHED) == []


def test_an_alerting_change_cancels_the_documents_reminders_then_schedules_its_own():
    schedules = FakeSchedules(pending=["old-7d"])
    update_reminders(schedules, _record(), KEY, PUBLISHED)
    assert schedules.cancelled == ["anthropic/privacy-policy"]
    assert [r.days_before for r in schedules.created] == [7, 1]


def test_an_alerting_change_without_a_date_only_cancels():
    schedules = FakeSchedules(pending=["old-7d"])
    update_reminders(schedules, _record(effective=None), KEY, PUBLISHED)
    assert schedules.cancelled == ["anthropic/privacy-policy"] and schedules.created == []


PENDING = f"{document_prefix('anthropic/privacy-policy')}2025-09-28-7d"


@pytest.mark.parametrize("kind", ["cosmetic", "flap", "date-only"])
def test_changes_that_alert_no_one_and_keep_the_date_neither_cancel_nor_schedule(kind):
    schedules = FakeSchedules(pending=[PENDING])
    update_reminders(schedules, _record(kind), KEY, PUBLISHED)
    assert schedules.cancelled == [] and schedules.created == [] and schedules.pending == [PENDING]


@pytest.mark.parametrize(("kind", "effective"), [("flap", "2025-06-01"), ("flap", None), ("date-only", "2025-10-05")])
def test_a_revert_or_a_date_moved_alone_cancels_without_scheduling(kind, effective):
    schedules = FakeSchedules(pending=[PENDING])
    update_reminders(schedules, _record(kind, effective), KEY, PUBLISHED)
    assert schedules.cancelled == ["anthropic/privacy-policy"] and schedules.created == []


def test_a_scheduling_failure_is_logged_not_raised():
    schedules = FakeSchedules(fail=True)
    update_reminders(schedules, _record(), KEY, PUBLISHED)  # no exception: the diff goes on
    assert schedules.created == []
