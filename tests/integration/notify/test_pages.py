"""Fan-outs a page at a time against moto: every watcher once, every page counted once, whatever repeats."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from devstack.events import sqs_event as lambda_event
from functions.diff import diff_handler
from functions.notify import notify_handler
from policywatch.core import clock
from policywatch.notify.digest import week_window
from policywatch.notify.pages import PageJobError, read_job
from policywatch.storage.deliveries import Deliveries, DeliveryKey
from policywatch.storage.fanouts import FanOuts
from tests.helpers.changes import put_version, training_change
from tests.helpers.events import s3_event, sqs_event
from tests.helpers.faults import Faults
from tests.helpers.notify import deliveries, digest, drain_fanout_queue, emails, notify, subscribe


@pytest.fixture
def pages_of_three(monkeypatch):
    monkeypatch.setenv("FANOUT_PAGE_SIZE", "3")


def _summary(fanout_id: str) -> dict:
    summary = FanOuts("deliveries").summary(fanout_id)
    assert summary is not None
    return {
        k: int(v) if k not in ("completed_at", "kind", "change_id", "recipient") else v
        for k, v in summary.items()
        if k
        in (
            "pages_started",
            "pages_done",
            "chains",
            "chains_ended",
            "watchers",
            "sent",
            "duplicates",
            "items_read",
            "completed_at",
            "other_platform",
        )
    }


def test_a_platform_is_delivered_a_page_at_a_time_each_watcher_read_once(stack, context, pages_of_three):
    change = training_change(stack, context)["body"]
    readers = [subscribe(f"reader{i}@example.com", "watcher") for i in range(10)]
    subscribe("elsewhere@example.com", "watcher", ["openai"])  # another platform's: never read

    assert notify(stack, context, sqs_event(change)) == {"batchItemFailures": []}

    assert sorted(m["to"][0] for m in emails()) == sorted(r.email for r in readers)
    summary = _summary(change["change_id"])
    assert summary["pages_started"] == summary["pages_done"] == 4  # 3 + 3 + 3 + 1
    assert summary["chains_ended"] == summary["chains"] == 1
    assert summary["watchers"] == summary["items_read"] == summary["sent"] == 10  # one index item per subscriber
    assert summary["completed_at"] <= clock.iso()
    assert len(deliveries(change["change_id"])) == 10  # the ledger is kept apart from the deliveries


def test_a_page_job_delivered_twice_is_done_and_counted_once(stack, context, pages_of_three):
    change = training_change(stack, context)["body"]
    for i in range(5):
        subscribe(f"reader{i}@example.com", "watcher")
    notify_handler.handler(sqs_event(change), context)
    first = stack.sqs.receive_message(QueueUrl=stack.fanout_queue_url, AttributeNames=["All"])["Messages"]
    notify_handler.handler(lambda_event(first), context)
    notify_handler.handler(lambda_event(first), context)  # SQS delivered page 1 twice
    stack.sqs.delete_message(QueueUrl=stack.fanout_queue_url, ReceiptHandle=first[0]["ReceiptHandle"])
    drain_fanout_queue(stack, context)

    assert len(emails()) == 5
    summary = _summary(change["change_id"])
    assert (summary["pages_started"], summary["pages_done"], summary["sent"]) == (2, 2, 5)


def test_a_page_that_dies_before_it_is_done_is_redone_without_a_second_send_or_page(stack, context, pages_of_three):
    change = training_change(stack, context)["body"]
    for i in range(7):
        subscribe(f"reader{i}@example.com", "watcher")
    Faults().fail("dynamodb", "TransactWriteItems", when=lambda p: "#s = :pending" in json.dumps(p))

    with pytest.raises(BatchProcessingError):  # page 1's "done" was lost: SQS brings the page back
        notify(stack, context, sqs_event(change))
    assert notify(stack, context, sqs_event(change)) == {"batchItemFailures": []}  # the change again: page 1 again

    assert sorted(m["to"][0] for m in emails()) == sorted(f"reader{i}@example.com" for i in range(7))
    summary = _summary(change["change_id"])
    # Page 2's job was sent once (page 1 had noted it), page 1 counted once; its rerun found its 3 sent already.
    assert (summary["pages_started"], summary["pages_done"]) == (3, 3)
    assert (summary["sent"], summary["duplicates"]) == (4, 3)
    assert {d["status"] for d in deliveries(change["change_id"]).values()} == {"sent"}


def test_a_digest_reaches_a_subscriber_of_two_changed_platforms_once(stack, context, pages_of_three):
    start, _ = week_window(clock.now())
    training_change(stack, context, when=start + timedelta(days=2))
    for days, kept in ((3, 30), (4, 90)):  # OpenAI's retention changes too
        text = f"# Privacy Policy\n\n## Retention\n\nWe keep your conversations for {kept} days, then delete them.\n"
        key = put_version(stack, text, start + timedelta(days=days), "openai")
        diff_handler.handler(s3_event(stack.bucket, key), context)
    both = subscribe("both@example.com", "watcher", ["anthropic", "openai"], digest=True)
    free = [subscribe(f"free{i}@example.com", "free") for i in range(4)]

    result = digest(stack, context)

    assert sorted(m["to"][0] for m in emails()) == sorted([both.email] + [f.email for f in free])
    summary = _summary(result["fanout"])
    assert summary["chains"] == summary["chains_ended"] == 2
    assert summary["other_platform"] == 1  # "both" is on openai's page too; anthropic's sends it
    assert summary["sent"] == 5


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{}", "not a page job: KeyError: 'kind'"),
        ('{"kind": "sms", "fanout": "c", "record_key": "k", "platform": "p", "page": 1}', "kind must be one of"),
        ('{"kind": "alert", "fanout": "c", "record_key": "k", "platform": "p", "page": 0}', "page must be a positive"),
        ('{"kind": "alert", "fanout": "", "record_key": "k", "platform": "p", "page": 1}', "non-empty strings"),
    ],
)
def test_a_malformed_page_job_is_named_in_one_line(body, reason):
    with pytest.raises(PageJobError, match=reason):
        read_job(body)


def test_a_page_run_again_knows_what_it_claimed_with_one_read(stack):
    deliveries = Deliveries("deliveries")
    keys = [DeliveryKey("chg-r", f"sub_{i}", "email") for i in range(150)]  # two batches of reads
    for key in keys[:100]:
        deliveries.claim(key)
    deliveries.failed(keys[0], "SES refused")
    assert deliveries.existing(keys) == set(keys[:100])
    assert deliveries.existing(keys, but=("failed",)) == set(keys[1:100])  # a digest sends a failed one again
