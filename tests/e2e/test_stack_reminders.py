"""Effective-date reminders on the deployed stack: scheduled by the diff function, sent once by the
reminder function (invoked with a schedule's own input, and once by MiniStack's scheduler firing
a one-time schedule), cancelled by a superseding change.

Runs after test_stack.py (which counts the outbox) and test_stack_evidence.py; its data is a
platform no other e2e test watches (Mistral's privacy policy), archived with the pipeline's own
code as test_site.py does.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from policywatch.storage import clients as aws
from policywatch.storage.archive import Archive, stamp
from policywatch.storage.schedules import document_prefix
from tests.helpers.waiting import wait_for

DOCUMENT = "mistral/privacy-policy"
NOW = datetime.now(UTC)
EFFECTIVE = (NOW + timedelta(days=40)).date()
WATCHER, FREE = "reminded@example.com", "free-reminded@example.com"


def _policy(sentence: str) -> str:
    return f"# Privacy Policy\n\n## Model training\n\n{sentence}\n"


BEFORE = _policy("We do not use your conversations to train our models.")
STATING = _policy(
    "We use your conversations to train our models unless you opt out. "
    f"This change takes effect on {EFFECTIVE:%B} {EFFECTIVE.day}, {EFFECTIVE.year}."
)
SUPERSEDING = _policy("We use your conversations to train our models, and you cannot opt out.")


def _archive(deployed, text: str, moment: datetime, *, first: bool = False) -> dict | None:
    """Archive a version as a sweep does; the change record the deployed diff function makes of it
    (none of a document's ``first`` version)."""
    with pytest.MonkeyPatch.context() as env:  # the package's own boto3 clients, pointed at the MiniStack
        for name, value in deployed.env.items():
            if name.startswith("AWS_"):
                env.setenv(name, value)
        aws.reset()
        try:
            archive = Archive(deployed.outputs["ArchiveBucketName"])
            metadata = {
                "source-url": "https://mistral.ai/terms#privacy-policy",
                "fetched-at": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "document-type": "Privacy Policy",
                "extractor-version": "2",
            }
            archive.put_version(DOCUMENT, moment, text, metadata)
            if first:
                return None
            key = f"changes/{DOCUMENT}/{stamp(moment)}.json"
            raw = wait_for(f"the change record {key}", lambda: archive.get_optional(key), interval=0.2)
            return json.loads(raw)
        finally:
            aws.reset()


def _schedules(deployed) -> dict[str, dict]:
    scheduler, group = deployed.client("scheduler"), deployed.outputs["ReminderScheduleGroupName"]
    listed = scheduler.list_schedules(GroupName=group, NamePrefix=document_prefix(DOCUMENT))["Schedules"]
    return {s["Name"]: scheduler.get_schedule(Name=s["Name"], GroupName=group) for s in listed}


def _invoke(deployed, payload: dict) -> dict:
    response = deployed.client("lambda").invoke(
        FunctionName=deployed.outputs["ReminderFunctionName"], Payload=json.dumps(payload)
    )
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return body


def _reminders(deployed, to: str) -> list[dict]:
    return [m for m in deployed.outbox()["emails"] if m["To"] == [to] and m["Subject"].startswith("Reminder:")]


def test_a_reminder_is_scheduled_sent_once_and_cancelled_when_superseded(deployed):
    deployed.cli("subscribers", "add", "--active", "--email", WATCHER, "--tier", "watcher", "--platform", "mistral")
    deployed.cli("subscribers", "add", "--active", "--email", FREE, "--tier", "free", "--platform", "mistral")
    _archive(deployed, BEFORE, NOW - timedelta(days=2), first=True)
    record = _archive(deployed, STATING, NOW - timedelta(days=1))
    assert record is not None and record["alert"] and record["effective_date"] == EFFECTIVE.isoformat()

    # Two one-time schedules in the stack's group, named for the document, date and lead.
    found = _schedules(deployed)
    prefix = document_prefix(DOCUMENT)
    assert sorted(found) == [f"{prefix}{EFFECTIVE}-1d", f"{prefix}{EFFECTIVE}-7d"]
    week = found[f"{prefix}{EFFECTIVE}-7d"]
    assert week["ScheduleExpression"] == f"at({EFFECTIVE - timedelta(days=7)}T08:00:00)"
    assert week["ActionAfterCompletion"] == "DELETE"

    # The reminder function, invoked with the schedule's own input, twice: one e-mail, to the watcher only.
    payload = json.loads(week["Target"]["Input"])
    assert payload["days_before"] == 7
    started = _invoke(deployed, payload)  # its fan-out: NotifyFunction sends the page
    assert started["skipped"] == "" and started["fanout"].endswith("#reminder-7d")
    wait_for("the reminder", lambda: _reminders(deployed, WATCHER))
    wait_for(
        "the reminder's fan-out to complete",
        lambda: "fan-out complete" in deployed.cli("deliveries", started["fanout"]).stdout,
    )
    assert _invoke(deployed, payload)["fanout"] == started["fanout"]  # fired twice: its page is done
    ledger = deployed.cli("deliveries", started["fanout"]).stdout
    assert ": 1 page; " in ledger and ", 1 sent" in ledger, ledger
    (mail,) = _reminders(deployed, WATCHER)
    assert mail["Subject"].endswith(f"takes effect on {EFFECTIVE.day} {EFFECTIVE:%B %Y} (in 7 days)")
    assert "/changes/mistral/privacy-policy/" in mail["BodyText"] and "/unsubscribe?" in mail["BodyText"]
    assert _reminders(deployed, FREE) == []

    # MiniStack's scheduler fires a one-time schedule (every 10 s): one due in a few seconds, with
    # the day-before reminder's input, the same target and role; it deletes itself once fired.
    day = found[f"{prefix}{EFFECTIVE}-1d"]
    scheduler, group = deployed.client("scheduler"), deployed.outputs["ReminderScheduleGroupName"]
    due = datetime.now(UTC) + timedelta(seconds=3)
    scheduler.create_schedule(
        Name=f"{prefix}fired-now-1d",
        GroupName=group,
        ScheduleExpression=f"at({due:%Y-%m-%dT%H:%M:%S})",
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        Target={k: day["Target"][k] for k in ("Arn", "RoleArn", "Input")},
    )
    wait_for("the fired schedule's e-mail", lambda: len(_reminders(deployed, WATCHER)) == 2, timeout=60)
    fired = [m for m in _reminders(deployed, WATCHER) if m["Subject"].endswith("(in 1 day)")]
    assert len(fired) == 1
    wait_for("the fired schedule to delete itself", lambda: f"{prefix}fired-now-1d" not in _schedules(deployed))

    # A later substantive change supersedes it: the document's reminders are gone.
    later = _archive(deployed, SUPERSEDING, NOW - timedelta(hours=1))
    assert later is not None and later["alert"] and later["effective_date"] is None
    assert _schedules(deployed) == {}
    assert _invoke(deployed, payload)["skipped"] == "superseded"
    assert len(_reminders(deployed, WATCHER)) == 2
