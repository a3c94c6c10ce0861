"""The weekly digest against moto: last week's substantive changes, once, to those who take it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from functions.diff import diff_handler
from policywatch.core import clock
from policywatch.core.links import Links
from policywatch.notify.digest import changes_between, send_digests, week_window
from policywatch.notify.dispatch import DeliveryOptions
from policywatch.storage.archive import Archive
from policywatch.storage.deliveries import Deliveries
from policywatch.storage.subscribers import Subscribers
from tests.helpers.aws import BUCKET, REGION, SENDER
from tests.helpers.changes import put_version, training_change
from tests.helpers.events import s3_event
from tests.helpers.faults import Faults, delivery_update
from tests.helpers.notify import digest, emails, subscribe


def _retention(days: int) -> str:
    return f"# Privacy Policy\n\n## Retention\n\nWe keep your conversations for {days} days, then delete them.\n"


def test_free_subscribers_get_last_weeks_changes_on_monday_once(stack, context):
    start, _ = week_window(clock.now())
    change = training_change(stack, context, when=start + timedelta(days=2))["body"]
    free = subscribe("free@example.com", "free")
    subscribe("quiet@example.com", "free", ["openai"])  # nothing changed there: no email
    subscribe("sameday@example.com", "watcher")  # same-day alerts, no digest asked for
    opted = subscribe("opted@example.com", "watcher", digest=True)
    subscribe("filtered@example.com", "professional", digest=True, provisions=["dispute-resolution"])

    result = digest(stack, context)
    assert result["week"] == start.strftime("%G-W%V") and result["changes"] == 1
    assert (result["sent"], result["duplicates"], result["pages_done"]) == (2, 0, 1)
    again = digest(stack, context)  # the schedule fired twice: its page is done, nothing is sent again
    assert (again["sent"], again["pages_done"]) == (2, 1)
    sent = emails()
    assert sorted(m["to"][0] for m in sent) == sorted([free.email, opted.email])
    mail = next(m for m in sent if m["to"][0] == free.email)
    assert "Week of" in mail["mime"]["Subject"] and "Anthropic (Claude)" in mail["mime"]["Subject"]
    assert change["summary"].split(";")[0] in mail["text"].replace("\r\n", " ").replace("\n", " ")
    assert mail["mime"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert free.unsubscribe_token in mail["mime"]["List-Unsubscribe"]


def test_the_digest_covers_the_previous_iso_week_only(stack, context):
    monday = week_window(clock.now())[1] - timedelta(days=7)  # last week's Monday 00:00 UTC
    moments = {
        30: monday - timedelta(days=3),
        60: monday - timedelta(hours=1),  # Sunday 23:00 the week before: too early
        90: monday + timedelta(days=1),  # Tuesday: in
        180: monday + timedelta(days=6, hours=23),  # Sunday 23:00: in
        365: monday + timedelta(days=7, hours=3),  # this Monday 03:00: next week's digest
    }
    for days, moment in moments.items():
        key = put_version(stack, _retention(days), moment)
        diff_handler.handler(s3_event(stack.bucket, key), context)
    found = changes_between(Archive(BUCKET), monday, monday + timedelta(days=7))
    assert [c["evidence"]["current"]["fetched_at"][:13] for c in found["anthropic"]] == [
        moments[90].isoformat()[:13],
        moments[180].isoformat()[:13],
    ]
    subscribe("free@example.com", "free")
    run = send_digests(
        archive=Archive(BUCKET),
        subscribers=Subscribers("subscribers"),
        deliveries=Deliveries("deliveries"),
        options=DeliveryOptions(sender=SENDER, links=Links("https://policywatch.test")),
        now=monday + timedelta(days=7, hours=8),  # the Monday 08:00 run
    )
    assert run.changes == 2 and len(run.sent) == 1
    (mail,) = emails()
    assert "2 changes" in mail["mime"]["Subject"]


def test_no_change_no_digest(stack, context):
    subscribe("free@example.com", "free")
    assert digest(stack, context)["sent"] == 0
    assert ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages == []


def test_a_digest_whose_failure_cannot_be_recorded_is_sent_by_the_rerun(stack, context):
    start, _ = week_window(clock.now())
    training_change(stack, context, when=start + timedelta(days=2))
    free = subscribe("free@example.com", "free")
    faults = Faults()
    faults.fail("ses", "SendRawEmail")
    faults.fail("dynamodb", "UpdateItem", when=delivery_update("SET #s = :failed"))

    with pytest.raises(BatchProcessingError, match="DigestIncomplete"):  # the page fails: SQS brings it back
        digest(stack, context)
    assert digest(stack, context)["sent"] == 1  # the page again (here: the schedule's retry puts it back)
    assert [m["to"][0] for m in emails()] == [free.email]
