"""SQS queues: the fetch jobs, the delivery jobs and the dead letters."""

from __future__ import annotations

from dataclasses import dataclass

from policywatch.storage import clients
from policywatch.storage.errors import adapter

MAX_BATCH = 10  # SendMessageBatch's limit


@dataclass(frozen=True)
class Message:
    body: str
    group_id: str | None = None  # FIFO queues: the message group
    deduplication_id: str | None = None  # FIFO queues: same id within 5 minutes, sent once
    delay: int = 0  # seconds before it is visible (standard queues, at most 900)
    attributes: tuple[tuple[str, str], ...] = ()  # string attributes


@adapter
class Queue:
    def __init__(self, url: str) -> None:
        self.url = url

    def send(self, message: Message) -> None:
        clients.client("sqs").send_message(QueueUrl=self.url, **_entry(message))

    def send_batch(self, messages: list[Message]) -> list[tuple[int, str]]:
        """Send ``messages``, ten to a request; returns (index, reason) of each one SQS refused."""
        refused: list[tuple[int, str]] = []
        for start in range(0, len(messages), MAX_BATCH):
            entries = [{"Id": str(i), **_entry(m)} for i, m in enumerate(messages[start : start + MAX_BATCH])]
            response = clients.client("sqs").send_message_batch(QueueUrl=self.url, Entries=entries)
            refused += [
                (start + int(f["Id"]), f.get("Message") or f.get("Code", "refused")) for f in response.get("Failed", [])
            ]
        return refused

    def defer(self, receipt_handle: str, seconds: int) -> None:
        """Make a received message visible again after ``seconds``."""
        clients.client("sqs").change_message_visibility(
            QueueUrl=self.url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )


def _entry(message: Message) -> dict:
    entry: dict = {"MessageBody": message.body}
    if message.group_id:
        entry["MessageGroupId"] = message.group_id
    if message.deduplication_id:
        entry["MessageDeduplicationId"] = message.deduplication_id
    if message.delay:
        entry["DelaySeconds"] = message.delay
    if message.attributes:
        entry["MessageAttributes"] = {k: {"DataType": "String", "StringValue": v} for k, v in message.attributes}
    return entry
