"""Deliveries when AWS fails at the worst moment: nothing lost, nothing sent twice.

Faults are injected at the AWS boundary, on the clients the code uses (botocore's
``before-parameter-build`` event raises the error AWS would answer), never by replacing
policywatch's own classes. After each fault the system is driven as AWS would drive it: the
change comes back from its queue, the delivery queue is drained, the reconciler runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from werkzeug import Request, Response

from policywatch.storage.deliveries import Deliveries, DeliveryKey
from tests.helpers.changes import training_change
from tests.helpers.events import sqs_event
from tests.helpers.faults import Faults, delivery_update
from tests.helpers.notify import (
    dead_letters,
    deliveries,
    drain_delivery_queue,
    emails,
    endpoint,
    notify,
    reconciled,
    subscribe,
)
from tests.helpers.webhooks import verifying


@pytest.fixture
def faults(stack) -> Faults:
    return Faults()


def to_delivery_queue(stack) -> Callable[[dict[str, Any]], bool]:
    return lambda params: params["QueueUrl"] == stack.delivery_queue_url


def answers(*statuses: int, then: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """A receiver that answers ``statuses`` in turn, then hands over to ``then``."""
    calls: list[Request] = []

    def handle(request: Request) -> Response:
        calls.append(request)
        return Response("busy", status=statuses[len(calls) - 1]) if len(calls) <= len(statuses) else then(request)

    return handle


# ---------------------------------------------------------------- the fan-out's first attempt


def test_a_retry_that_cannot_be_scheduled_gives_the_claim_back_and_the_redelivered_change_sends_once(
    stack, context, faults
):
    change = training_change(stack, context)["body"]
    watcher = subscribe("watcher@example.com", "watcher")
    faults.fail("ses", "SendRawEmail")
    faults.fail("sqs", "SendMessage", when=to_delivery_queue(stack))
    event = sqs_event(change)

    with pytest.raises(BatchProcessingError):  # the change fails: SQS brings it back
        notify(stack, context, event)
    assert deliveries(change["change_id"]) == {}  # the claim was given back: nothing went out
    assert notify(stack, context, event) == {"batchItemFailures": []}

    assert [m["to"][0] for m in emails()] == [watcher.email]
    (record,) = deliveries(change["change_id"]).values()
    assert record["status"] == "sent" and record["attempts"] == 1
    assert faults.injected == ["SendRawEmail", "SendMessage"]


def test_a_failure_that_cannot_be_recorded_is_carried_by_a_job_that_vouches_for_it(stack, context, faults):
    change = training_change(stack, context)["body"]
    watcher = subscribe("watcher@example.com", "watcher")
    faults.fail("ses", "SendRawEmail")
    faults.fail("dynamodb", "UpdateItem", when=delivery_update("SET #s = :retrying"))

    assert notify(stack, context, sqs_event(change)) == {"batchItemFailures": []}
    (record,) = deliveries(change["change_id"]).values()
    assert record["status"] == "sending"  # what DynamoDB last heard
    drain_delivery_queue(stack, context)

    assert [m["to"][0] for m in emails()] == [watcher.email]
    (record,) = deliveries(change["change_id"]).values()
    assert record["status"] == "sent" and record["attempts"] == 2
    assert "unsettled" not in record and "overdue_at" not in record  # settled: out of the reconciler's index


def test_when_neither_the_record_nor_the_queue_can_be_written_the_claim_is_given_back(stack, context, faults):
    change = training_change(stack, context)["body"]
    watcher = subscribe("watcher@example.com", "watcher")
    faults.fail("ses", "SendRawEmail")
    faults.fail("dynamodb", "UpdateItem", when=delivery_update("SET #s = :retrying"))
    faults.fail("sqs", "SendMessage", when=to_delivery_queue(stack))
    event = sqs_event(change)

    with pytest.raises(BatchProcessingError):
        notify(stack, context, event)
    assert deliveries(change["change_id"]) == {}
    notify(stack, context, event)
    assert [m["to"][0] for m in emails()] == [watcher.email]


def test_when_the_claim_cannot_be_given_back_either_the_reconciler_hands_the_retry_over(stack, context, faults):
    change = training_change(stack, context)["body"]
    watcher = subscribe("watcher@example.com", "watcher")
    faults.fail("ses", "SendRawEmail")
    faults.fail("sqs", "SendMessage", when=to_delivery_queue(stack))
    faults.fail("dynamodb", "DeleteItem", when=lambda params: params.get("TableName") == "deliveries")
    event = sqs_event(change)

    with pytest.raises(BatchProcessingError):
        notify(stack, context, event)
    notify(stack, context, event)  # the claim stands: the change's redelivery sends nothing
    assert emails() == []
    (record,) = deliveries(change["change_id"]).values()
    assert record["status"] == "retrying"  # with no job: overdue once its next attempt is past the grace

    assert reconciled(stack).resent == 1
    drain_delivery_queue(stack, context)
    assert [m["to"][0] for m in emails()] == [watcher.email]
    (record,) = deliveries(change["change_id"]).values()
    assert record["status"] == "sent" and record["attempts"] == 2


def test_a_send_that_cannot_be_recorded_is_not_sent_again_by_the_changes_redelivery(stack, context, faults):
    change = training_change(stack, context)["body"]
    watcher = subscribe("watcher@example.com", "watcher")
    faults.fail("dynamodb", "UpdateItem", when=delivery_update("SET #s = :sent"))
    event = sqs_event(change)

    assert notify(stack, context, event) == {"batchItemFailures": []}  # it went out
    assert notify(stack, context, event) == {"batchItemFailures": []}
    assert [m["to"][0] for m in emails()] == [watcher.email]

    run = reconciled(stack)  # the record still says sending: ambiguous for an email, so never sent twice
    assert (run.stuck, run.interrupted) == (1, 1)
    assert [m["to"][0] for m in emails()] == [watcher.email]
    (record,) = deliveries(change["change_id"]).values()
    assert record["status"] == "interrupted" and "may have gone out" in record["last_error"]


# ---------------------------------------------------------------- the delivery queue's attempts


def test_a_retry_whose_failure_cannot_be_recorded_hands_the_delivery_to_a_new_job(stack, context, receiver, faults):
    change = training_change(stack, context)["body"]
    received: list = []
    hook = endpoint(receiver, "/flaky")
    receiver.expect_request("/flaky").respond_with_handler(answers(503, 503, then=verifying(hook.secret, received)))
    pro = subscribe("pro@example.com", "professional", webhooks=[hook])
    # Attempt 1's failure is recorded; attempt 2's is not (DynamoDB fails after the send failed).
    faults.fail("dynamodb", "UpdateItem", when=delivery_update("SET #s = :retrying"), skip=1)

    notify(stack, context, sqs_event(change))
    drain_delivery_queue(stack, context)

    assert len(received) == 1 and len(receiver.log) == 3
    assert len({request.headers["webhook-id"] for request, _ in receiver.log}) == 1
    record = deliveries(change["change_id"])[f"{pro.subscriber_id}#{hook.channel}"]
    assert record["status"] == "sent" and record["attempts"] == 3
    assert dead_letters(stack) == []


def test_a_last_failure_that_cannot_be_recorded_still_reaches_the_dead_letter_queue_and_a_redrive_sends_once(
    stack, context, receiver, faults
):
    change = training_change(stack, context)["body"]
    received: list = []
    hook = endpoint(receiver, "/down")
    receiver.expect_request("/down").respond_with_handler(answers(500, 500, 500, then=verifying(hook.secret, received)))
    pro = subscribe("pro@example.com", "professional", webhooks=[hook])
    faults.fail("dynamodb", "UpdateItem", when=delivery_update("SET #s = :failed"))

    notify(stack, context, sqs_event(change))
    drain_delivery_queue(stack, context)  # DELIVERY_ATTEMPTS is 3 in the test stack
    (dead,) = dead_letters(stack)
    key = f"{pro.subscriber_id}#{hook.channel}"
    assert deliveries(change["change_id"])[key]["status"] == "sending"  # the failure could not be written

    stack.sqs.send_message(QueueUrl=stack.delivery_queue_url, MessageBody=dead["Body"])  # the operator redrives it
    drain_delivery_queue(stack, context)
    assert len(received) == 1 and deliveries(change["change_id"])[key]["status"] == "sent"
    stack.sqs.send_message(QueueUrl=stack.delivery_queue_url, MessageBody=dead["Body"])  # twice by mistake
    drain_delivery_queue(stack, context)
    assert len(received) == 1


def test_a_job_vouches_only_for_the_attempt_it_names(stack):
    """A job may take over a record still saying "sending" only for the failed attempt it names, once."""
    store = Deliveries("deliveries")
    key = DeliveryKey("change-1", "sub_1", "email")
    assert store.claim(key, record_key="changes/x.json")
    assert not store.resume(key, 2)  # an ordinary job: attempt 1 may still be sending
    assert store.resume(key, 2, after_failed=1)  # attempt 1 is known to have ended unsent
    assert not store.resume(key, 2, after_failed=1)  # the same job received twice
    assert not store.resume(key, 3, after_failed=1)  # attempt 2 is being sent now: not this job's to take
    store.retrying(key, "answered 500", 0)
    assert store.resume(key, 3)
