"""SQS queues against moto: a message's FIFO group and deduplication id, batches of ten, refusals by index, deferral."""

from __future__ import annotations

import pytest

from policywatch.storage import clients
from policywatch.storage.errors import StorageError
from policywatch.storage.queues import MAX_BATCH, Message, Queue


@pytest.fixture
def fifo(moto) -> Queue:
    url = clients.client("sqs").create_queue(QueueName="fetch.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    return Queue(url)


@pytest.fixture
def standard(moto) -> Queue:
    return Queue(clients.client("sqs").create_queue(QueueName="delivery")["QueueUrl"])


def received(queue: Queue, visibility: int = 30) -> list[dict]:
    """Every message visible on ``queue`` now, with its system and string attributes (left in flight)."""
    found = []
    while (
        batch := clients.client("sqs")
        .receive_message(
            QueueUrl=queue.url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            VisibilityTimeout=visibility,
        )
        .get("Messages", [])
    ):
        found.extend(batch)
    return found


def test_a_fifo_message_carries_its_group_and_deduplication_id(fifo):
    fifo.send(Message('{"document": "anthropic/privacy-policy"}', group_id="anthropic.com#0", deduplication_id="s1-a"))
    (message,) = received(fifo)
    assert message["Body"] == '{"document": "anthropic/privacy-policy"}'
    assert message["Attributes"]["MessageGroupId"] == "anthropic.com#0"
    assert message["Attributes"]["MessageDeduplicationId"] == "s1-a"


def test_a_fifo_message_sent_twice_with_one_deduplication_id_arrives_once(fifo):
    for _ in range(2):  # a sweep invoked twice within five minutes
        fifo.send(Message("job", group_id="g", deduplication_id="sweep-1:anthropic/privacy-policy"))
    assert [m["Body"] for m in received(fifo)] == ["job"]


def test_a_message_without_a_group_is_refused_by_a_fifo_queue_as_a_storage_error(fifo):
    with pytest.raises(StorageError) as failed:
        fifo.send(Message("job"))
    assert (failed.value.operation, failed.value.code) == ("SendMessage", "MissingParameter")


def test_string_attributes_travel_with_the_message(standard):
    standard.send(Message("dead job", attributes=(("reason", "answered 500"), ("attempts", "3"))))
    (message,) = received(standard)
    assert {name: value["StringValue"] for name, value in message["MessageAttributes"].items()} == {
        "reason": "answered 500",
        "attempts": "3",
    }
    assert {value["DataType"] for value in message["MessageAttributes"].values()} == {"String"}


def test_a_delayed_message_is_not_visible_at_once(standard):
    standard.send(Message("later", delay=900))
    standard.send(Message("now"))
    assert [m["Body"] for m in received(standard)] == ["now"]


def test_a_batch_goes_ten_to_a_request_and_every_message_arrives(fifo):
    calls = []
    clients.client("sqs").meta.events.register(
        "before-parameter-build.sqs.SendMessageBatch", lambda params, **_: calls.append(len(params["Entries"]))
    )
    messages = [Message(f"job {i}", group_id=f"g{i}", deduplication_id=f"d{i}") for i in range(23)]
    assert fifo.send_batch(messages) == []
    assert calls == [MAX_BATCH, MAX_BATCH, 3]
    arrived = received(fifo)
    assert sorted(m["Body"] for m in arrived) == sorted(f"job {i}" for i in range(23))
    assert all(m["Attributes"]["MessageGroupId"] == "g" + m["Body"].removeprefix("job ") for m in arrived)


def test_refused_entries_are_reported_by_their_index_in_the_whole_list(standard):
    """SQS answers a batch with the entries it refused: their indexes are the caller's, across requests."""
    messages = [Message(f"job {i}") for i in range(12)]
    messages[3] = Message("job 3", delay=5_000)  # beyond SQS's 900 s
    messages[11] = Message("job 11", delay=901)
    refused = standard.send_batch(messages)
    assert [index for index, _ in refused] == [3, 11]
    assert all("DelaySeconds" in reason for _, reason in refused)
    assert sorted(m["Body"] for m in received(standard)) == sorted(f"job {i}" for i in range(12) if i not in (3, 11))


def test_an_empty_batch_sends_nothing(standard):
    assert standard.send_batch([]) == []
    assert received(standard) == []


def test_a_deferred_message_comes_back_after_the_given_seconds_only(standard):
    standard.send(Message("retry me"))
    (message,) = received(standard, visibility=600)
    assert received(standard) == []  # in flight
    standard.defer(message["ReceiptHandle"], 0)
    (again,) = received(standard, visibility=600)
    assert again["Body"] == "retry me" and again["Attributes"]["ApproximateReceiveCount"] == "2"
    standard.defer(again["ReceiptHandle"], 900)
    assert received(standard) == []


def test_deferring_with_a_receipt_that_is_not_one_is_a_storage_error(standard):
    with pytest.raises(StorageError) as failed:
        standard.defer("not-a-receipt-handle", 10)
    assert failed.value.operation == "ChangeMessageVisibility"
