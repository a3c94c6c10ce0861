"""Effective-date reminders against moto: scheduled by the diff, sent once by the reminder function."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import boto3
import pytest

from functions.diff import diff_handler
from functions.notify import reminder_handler
from policywatch.core.links import Links
from policywatch.notify.digest import coming_into_effect, send_digests
from policywatch.notify.dispatch import DeliveryOptions
from policywatch.storage.archive import Archive
from policywatch.storage.deliveries import Deliveries
from policywatch.storage.errors import StorageError
from policywatch.storage.fanouts import FanOuts
from policywatch.storage.schedules import Schedules, document_prefix
from policywatch.storage.site import SiteIndex
from policywatch.storage.subscribers import Subscribers
from tests.helpers.aws import BUCKET, REGION, SENDER
from tests.helpers.changes import put_version
from tests.helpers.events import s3_event
from tests.helpers.notify import drain_fanout_queue, emails, subscribe

GROUP = "policywatch-reminders"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:123456789012:function:policywatch-ReminderFunction"
ROLE_ARN = "arn:aws:iam::123456789012:role/policywatch-ReminderSchedulerRole"
NOW = datetime.now(UTC)
EFFECTIVE = (NOW + timedelta(days=40)).date()


def _policy(sentence: str) -> str:
    return f"# Privacy Policy\n\n## Model training\n\n{sentence}\n"


BEFORE = _policy("We do not use your conversations to train our models.")


def _stating(day: date) -> str:
    return _policy(
        "We use your conversations to train our models unless you opt out. "
        f"This change takes effect on {day:%B} {day.day}, {day.year}."
    )


SUPERSEDING = _policy("We use your conversations to train our models, and you cannot opt out.")


@pytest.fixture
def reminders(stack, monkeypatch):
    """The stack's schedule group, and the diff function told about it (as template.yaml does)."""
    boto3.client("scheduler", region_name=REGION).create_schedule_group(Name=GROUP)
    monkeypatch.setenv("REMINDER_SCHEDULE_GROUP", GROUP)
    monkeypatch.setenv("REMINDER_FUNCTION_ARN", FUNCTION_ARN)
    monkeypatch.setenv("REMINDER_ROLE_ARN", ROLE_ARN)
    return stack


def _schedules() -> dict[str, dict]:
    scheduler = boto3.client("scheduler", region_name=REGION)
    names = [s["Name"] for s in scheduler.list_schedules(GroupName=GROUP)["Schedules"]]
    return {name: scheduler.get_schedule(Name=name, GroupName=GROUP) for name in names}


def _archive(stack, context, text: str, when: datetime) -> dict:
    """Archive a version and run the diff function on it; the change record it made."""
    key = put_version(stack, text, when)
    diff_handler.handler(s3_event(stack.bucket, key), context)
    record_key = key.replace("versions/", "changes/", 1).removesuffix(".md") + ".json"
    return json.loads(stack.s3.get_object(Bucket=stack.bucket, Key=record_key)["Body"].read())


def _change_with_a_date(stack, context) -> dict:
    put_version(stack, BEFORE, NOW - timedelta(days=2))
    return _archive(stack, context, _stating(EFFECTIVE), NOW - timedelta(days=1))


def test_an_alerting_change_with_a_future_effective_date_schedules_two_reminders(reminders, context):
    record = _change_with_a_date(reminders, context)
    assert record["alert"] and record["effective_date"] == EFFECTIVE.isoformat()
    found = _schedules()
    prefix = document_prefix("anthropic/privacy-policy")
    assert sorted(found) == [f"{prefix}{EFFECTIVE}-1d", f"{prefix}{EFFECTIVE}-7d"]
    week = found[f"{prefix}{EFFECTIVE}-7d"]
    assert week["ScheduleExpression"] == f"at({EFFECTIVE - timedelta(days=7)}T08:00:00)"
    assert week["ActionAfterCompletion"] == "DELETE"
    assert week["Target"]["Arn"] == FUNCTION_ARN and week["Target"]["RoleArn"] == ROLE_ARN
    record_key = record["evidence"]["current"]["key"].replace("versions/", "changes/", 1).removesuffix(".md") + ".json"
    assert json.loads(week["Target"]["Input"]) == {"record_key": record_key, "days_before": 7}


def test_a_superseding_change_cancels_the_reminders(reminders, context):
    _change_with_a_date(reminders, context)
    later = _archive(reminders, context, SUPERSEDING, NOW - timedelta(hours=6))
    assert later["alert"] and later["effective_date"] is None
    assert _schedules() == {}


def test_a_revert_to_the_earlier_text_cancels_the_reminders(reminders, context):
    _change_with_a_date(reminders, context)
    reverted = _archive(reminders, context, BEFORE, NOW - timedelta(hours=6))
    assert not reverted["alert"] and reverted["kind"] == "flap"
    assert _schedules() == {}


def test_a_date_moved_alone_cancels_and_the_same_date_kept_does_not(reminders, context):
    _change_with_a_date(reminders, context)
    kept = _archive(reminders, context, _stating(EFFECTIVE).replace("# Privacy Policy", "# Privacy  Policy"),
                    NOW - timedelta(hours=18))  # fmt: skip
    assert not kept["alert"] and len(_schedules()) == 2
    moved = _archive(reminders, context, _stating(EFFECTIVE + timedelta(days=1)), NOW - timedelta(hours=12))
    assert moved["kind"] == "date-only" and _schedules() == {}


def test_a_scheduling_failure_does_not_fail_the_diff(reminders, context, monkeypatch):
    def unavailable(self, reminder):
        raise StorageError("CreateSchedule", "ServiceUnavailable", "try again")

    monkeypatch.setattr(Schedules, "schedule", unavailable)
    record = _change_with_a_date(reminders, context)
    assert record["alert"] and reminders.published_changes()  # recorded and alerted all the same
    assert _schedules() == {}  # only its reminders are lost


def test_the_reminder_goes_once_to_each_subscriber_whose_tier_has_it(reminders, context):
    _change_with_a_date(reminders, context)
    watcher = subscribe("watcher@example.com", "watcher")
    pro = subscribe("pro@example.com", "professional")
    subscribe("free@example.com", "free")
    subscribe("filtered@example.com", "professional", provisions=["dispute-resolution"])
    (week,) = [s for name, s in _schedules().items() if name.endswith("-7d")]
    event = json.loads(week["Target"]["Input"])

    first = reminder_handler.handler(event, context)
    assert first["skipped"] == "" and first["fanout"] == f"{first['change_id']}#reminder-7d"
    drain_fanout_queue(reminders, context)  # NotifyFunction sends its page
    reminder_handler.handler(event, context)  # the schedule fired twice: its page is done, nothing more
    assert drain_fanout_queue(reminders, context) == 0
    summary = FanOuts("deliveries").summary(first["fanout"])
    assert (summary["sent"], summary["not_entitled"], summary["pages_done"]) == (2, 2, 1)
    sent = emails()
    reminders_sent = [m for m in sent if m["mime"]["Subject"].startswith("Reminder:")]
    assert sorted(m["to"][0] for m in reminders_sent) == sorted([watcher.email, pro.email])
    mail = reminders_sent[0]
    effective = f"{EFFECTIVE.day} {EFFECTIVE:%B %Y}"
    assert mail["mime"]["Subject"].endswith(f"takes effect on {effective} (in 7 days)")
    assert "Anthropic (Claude)'s Privacy Policy change of" in mail["mime"]["Subject"]
    assert "https://policywatch.test/changes/anthropic/privacy-policy/" in mail["text"]
    assert mail["mime"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    records = Deliveries("deliveries").for_change(f"{first['change_id']}#reminder-7d")
    assert sorted(r["status"] for r in records) == ["sent", "sent"]


def test_a_superseded_change_sends_no_reminder(reminders, context):
    _change_with_a_date(reminders, context)
    subscribe("watcher@example.com", "watcher")
    event = json.loads(next(iter(_schedules().values()))["Target"]["Input"])
    _archive(reminders, context, SUPERSEDING, NOW - timedelta(hours=6))
    result = reminder_handler.handler(event, context)
    assert result["skipped"] == "superseded" and drain_fanout_queue(reminders, context) == 0
    assert FanOuts("deliveries").summary(result["fanout"]) is None  # no fan-out started
    assert not [m for m in emails() if m["mime"]["Subject"].startswith("Reminder:")]


def test_the_weekly_digest_lists_what_comes_into_effect_in_the_next_30_days(stack, context):
    put_version(stack, BEFORE, NOW - timedelta(days=2))
    soon = (NOW + timedelta(days=10)).date()
    _archive(stack, context, _stating(soon), NOW - timedelta(days=1))  # this week: not in last week's list
    free = subscribe("free@example.com", "free")
    subscribe("sameday@example.com", "watcher")  # no digest asked for
    run = send_digests(
        archive=Archive(BUCKET),
        subscribers=Subscribers("subscribers"),
        deliveries=Deliveries("deliveries"),
        options=DeliveryOptions(sender=SENDER, links=Links("https://policywatch.test")),
        now=NOW,
        site=SiteIndex("site"),
    )
    assert run.changes == 0 and run.sent == [free.subscriber_id]
    (mail,) = emails()
    assert "1 coming into effect" in mail["mime"]["Subject"]
    assert "Coming into effect" in mail["text"] and f"{soon.day} {soon:%B %Y}" in mail["text"]


def test_the_digest_leaves_out_dates_beyond_30_days_and_superseded_changes(stack, context):
    put_version(stack, BEFORE, NOW - timedelta(days=3))
    _archive(stack, context, _stating((NOW + timedelta(days=10)).date()), NOW - timedelta(days=2))
    _archive(stack, context, SUPERSEDING, NOW - timedelta(days=1))  # the document's latest: no date
    assert coming_into_effect(SiteIndex("site"), NOW.date(), NOW) == {}
    _archive(stack, context, _stating((NOW + timedelta(days=45)).date()), NOW - timedelta(hours=1))
    assert coming_into_effect(SiteIndex("site"), NOW.date(), NOW) == {}
