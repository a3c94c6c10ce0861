"""The reconciler against moto: deliveries left unsettled are found through the sparse index and settled safely.

"Left unsettled" is made the way a crash makes it: the delivery is claimed (or queued, or
retrying) and then nobody carries on. Time is moved by asking the reconciler about a later
``now``; the records' leases are the code's own.
"""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
import pytest

from devstack.tables import table_definitions
from functions.notify import reconcile_handler
from policywatch.core import clock
from policywatch.notify import dispatch
from policywatch.notify.jobs import RetryQueue
from policywatch.notify.reconcile import MAX_RESCUES, reconcile
from policywatch.storage import clients as aws
from policywatch.storage.deliveries import (
    OVERDUE_GRACE_SECONDS,
    SENDING_LEASE_SECONDS,
    UNSETTLED_INDEX,
    Deliveries,
    DeliveryKey,
    is_overdue,
)
from policywatch.storage.queues import Queue
from tests.helpers.aws import REGION
from tests.helpers.changes import training_change
from tests.helpers.notify import deliveries, drain_delivery_queue, emails, endpoint, reconciled, subscribe
from tests.helpers.webhooks import verifying

# The sparse index template.yaml declares on DeliveriesTable (devstack/tables.py gives it to moto).
INDEX_KEYS = [
    {"AttributeName": "unsettled", "KeyType": "HASH"},
    {"AttributeName": "overdue_at", "KeyType": "RANGE"},
]


@pytest.fixture
def store(stack) -> Deliveries:
    return Deliveries("deliveries")


def lose_jobs(stack) -> None:
    """Take every job off the delivery queue without running it (as if the delivery function kept failing)."""
    while messages := stack.sqs.receive_message(QueueUrl=stack.delivery_queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        for message in messages:
            stack.sqs.delete_message(QueueUrl=stack.delivery_queue_url, ReceiptHandle=message["ReceiptHandle"])


def record(change_id: str, key: DeliveryKey) -> dict:
    return deliveries(change_id)[key.recipient]


def test_the_template_declares_the_index_the_reconciler_queries():
    declared = table_definitions()["DeliveriesTable"].get("GlobalSecondaryIndexes", [])
    (index,) = [i for i in declared if i["IndexName"] == UNSETTLED_INDEX]
    assert index["KeySchema"] == INDEX_KEYS and index["Projection"] == {"ProjectionType": "ALL"}


def test_an_email_left_mid_send_is_settled_as_interrupted_and_never_sent_twice(stack, context, store):
    change = training_change(stack, context)["body"]
    watcher = subscribe("watcher@example.com", "watcher")
    key = DeliveryKey(change["change_id"], watcher.subscriber_id, "email")
    assert store.claim(key, record_key=change["record_key"])  # ... and the process died

    assert reconciled(stack, minutes=SENDING_LEASE_SECONDS / 60 - 1).stuck == 0  # it may still be sending
    assert not is_overdue(record(change["change_id"], key))
    run = reconciled(stack)
    assert (run.stuck, run.interrupted, run.resent) == (1, 1, 0)
    assert dict(run.by_status) == {"sending": 1}

    settled = record(change["change_id"], key)
    assert settled["status"] == "interrupted" and "may have gone out" in settled["last_error"]
    assert "unsettled" not in settled and "overdue_at" not in settled
    assert emails() == [] and reconciled(stack).stuck == 0
    drain_delivery_queue(stack, context)
    assert emails() == []


def test_a_digest_left_mid_send_is_not_sent_again_either(stack, store):
    key = DeliveryKey("digest-2026-W09", "sub_1", "email")
    assert store.claim(key, reclaim_failed=True)
    run = reconciled(stack)
    assert run.interrupted == 1
    assert not store.claim(key, reclaim_failed=True)  # the digest's rerun does not send it either


def test_a_webhook_left_mid_send_is_sent_again_with_the_same_webhook_id(stack, context, store, receiver):
    change = training_change(stack, context)["body"]
    received: list = []
    hook = endpoint(receiver, "/hook")
    receiver.expect_request("/hook").respond_with_handler(verifying(hook.secret, received))
    pro = subscribe("pro@example.com", "professional", webhooks=[hook])
    key = DeliveryKey(change["change_id"], pro.subscriber_id, hook.channel)
    assert store.claim(key, record_key=change["record_key"])

    run = reconciled(stack)
    assert (run.stuck, run.resent) == (1, 1)
    assert record(change["change_id"], key)["status"] == "retrying"
    drain_delivery_queue(stack, context)

    assert len(received) == 1
    assert received[0]["headers"]["Webhook-Id"] == dispatch.webhook_message_id(key)  # receivers drop a duplicate
    settled = record(change["change_id"], key)
    assert settled["status"] == "sent" and settled["attempts"] == 2
    assert reconciled(stack, minutes=60).stuck == 0


def test_a_queued_delivery_whose_job_never_came_is_handed_over_again_then_sent(stack, context, store):
    change = training_change(stack, context)["body"]
    watcher = subscribe("watcher@example.com", "watcher")
    key = DeliveryKey(change["change_id"], watcher.subscriber_id, "email")
    assert store.queue(key, change["record_key"])  # ... and its job never reached the queue

    assert reconciled(stack, minutes=OVERDUE_GRACE_SECONDS / 60 - 1).stuck == 0
    assert reconciled(stack).resent == 1
    drain_delivery_queue(stack, context)
    assert [m["to"][0] for m in emails()] == [watcher.email]
    settled = record(change["change_id"], key)
    assert settled["status"] == "sent" and settled["attempts"] == 1


def test_a_delivery_the_queue_never_takes_up_is_failed_after_a_few_hand_overs(stack, context, store):
    change = training_change(stack, context)["body"]
    key = DeliveryKey(change["change_id"], "sub_gone", "email")
    assert store.queue(key, change["record_key"])
    for run in range(MAX_RESCUES):  # the jobs are lost each time (the queue is purged)
        assert reconciled(stack, minutes=20 * (run + 1)).resent == 1
        lose_jobs(stack)
    assert reconciled(stack, minutes=20 * (MAX_RESCUES + 1)).failed == 1
    settled = record(change["change_id"], key)
    assert settled["status"] == "failed" and settled["rescues"] == MAX_RESCUES
    assert "never taken up" in settled["last_error"]


def test_a_record_that_moved_on_since_the_index_was_read_is_left_alone(stack, store):
    key = DeliveryKey("change-1", "sub_1", "webhook:wh_1")
    assert store.claim(key, record_key="changes/x.json")
    later = clock.now() + timedelta(minutes=20)
    (stale,) = store.overdue(later)
    store.sent(key, "msg_1", "answered 204")  # the attempt finished after all

    class StaleIndex(Deliveries):  # the index answers what it held a moment ago
        def overdue(self, now=None, limit=1000):
            return iter([stale])

    run = reconcile(
        deliveries=StaleIndex("deliveries"),
        retries=RetryQueue(Queue(stack.delivery_queue_url), Queue("dlq")),
        now=later,
    )
    assert (run.stuck, run.moved_on, run.resent) == (1, 1, 0)
    assert deliveries("change-1")[key.recipient]["status"] == "sent"


def test_the_reconciler_reads_only_overdue_records_through_the_index(stack, store):
    for i in range(200):  # settled deliveries: out of the index
        key = DeliveryKey(f"change-{i % 20}", f"sub_{i}", "email")
        store.claim(key, record_key="changes/x.json")
        store.sent(key, f"m{i}")
    for i in range(30):  # being sent now: in the index, not overdue
        store.claim(DeliveryKey("change-live", f"sub_{i}", "email"), record_key="changes/x.json")
    calls: list[tuple[str, dict]] = []
    db = aws.client("dynamodb")
    db.meta.events.register("after-call.dynamodb.*", lambda model, parsed, **_: calls.append((model.name, parsed)))

    assert reconciled(stack, minutes=1).stuck == 0
    assert {name for name, _ in calls} == {"Query"}
    assert sum(parsed["ScannedCount"] for _, parsed in calls) == 0  # nothing read that was not overdue


def test_the_scheduled_handler_reports_how_many_deliveries_were_stuck(stack, store, context, capsys):
    key = DeliveryKey("change-1", "sub_1", "sms")
    assert store.claim(key, record_key="changes/x.json")
    boto3.client("dynamodb", region_name=REGION).update_item(  # claimed an hour ago
        TableName="deliveries",
        Key={"change_id": {"S": "change-1"}, "recipient": {"S": key.recipient}},
        UpdateExpression="SET overdue_at = :then",
        ExpressionAttributeValues={":then": {"S": clock.iso(clock.now() - timedelta(minutes=45))}},
    )
    result = reconcile_handler.handler({}, context)
    assert result["stuck"] == 1 and result["interrupted"] == 1
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(m.get("DeliveriesStuck") == [1.0] for m in metrics)
    assert "+1" not in capsys.readouterr().out  # no phone numbers in the logs
