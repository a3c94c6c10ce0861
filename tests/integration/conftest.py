"""Handlers in-process against moto (mock_aws), with the resources the template declares."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devstack.tables import create_tables
from functions.diff import diff_handler
from policywatch.fetch.extraction.html import extract, fingerprint
from policywatch.storage import clients as aws
from policywatch.storage.archive import sha256, stamp
from tests.conftest import corpus_page

REGION = "us-east-1"
BUCKET = "policywatch-archive-123456789012-us-east-1"
SENDER = "alerts@policywatch.test"


@dataclass
class LambdaContext:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@dataclass
class Stack:
    """Names and handles of the moto resources, mirroring template.yaml."""

    bucket: str
    fetch_queue_url: str
    change_topic_arn: str
    change_capture_url: str  # an SQS queue subscribed to the change topic, raw delivery
    operator_capture_url: str  # an SQS queue subscribed to the operator topic
    delivery_queue_url: str = ""
    delivery_dlq_url: str = ""

    @property
    def s3(self):
        return boto3.client("s3", region_name=REGION)

    @property
    def sqs(self):
        return boto3.client("sqs", region_name=REGION)

    def keys(self, prefix: str = "") -> list[str]:
        return sorted(o["Key"] for o in self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix).get("Contents", []))

    def published_changes(self) -> list[dict[str, Any]]:
        return [
            {"body": json.loads(m["Body"]), "attributes": m.get("MessageAttributes", {})}
            for m in self._drain(self.change_capture_url)
        ]

    def operator_alerts(self) -> list[dict[str, Any]]:
        """Operator topic messages: {"subject", "message", "event"} (the SNS envelope unwrapped)."""
        alerts = []
        for m in self._drain(self.operator_capture_url):
            envelope = json.loads(m["Body"])
            event = envelope.get("MessageAttributes", {}).get("event", {}).get("Value")
            alerts.append({"subject": envelope.get("Subject"), "message": envelope["Message"], "event": event})
        return alerts

    def _drain(self, queue_url: str) -> list[dict[str, Any]]:
        messages = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not batch:
                return messages
            for m in batch:
                messages.append(m)
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext()


@pytest.fixture
def stack(monkeypatch) -> Stack:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "policywatch")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "policywatch")
    with mock_aws():
        aws.reset()
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        create_tables(
            boto3.client("dynamodb", region_name=REGION),
            {"DocumentsTable": "documents", "SubscribersTable": "subscribers", "DeliveriesTable": "deliveries"},
        )
        sqs = boto3.client("sqs", region_name=REGION)
        fetch_queue = sqs.create_queue(
            QueueName="fetch.fifo", Attributes={"FifoQueue": "true", "VisibilityTimeout": "720"}
        )["QueueUrl"]
        capture = sqs.create_queue(QueueName="capture")["QueueUrl"]
        delivery_dlq = sqs.create_queue(QueueName="delivery-dlq")["QueueUrl"]
        delivery_queue = sqs.create_queue(QueueName="delivery", Attributes={"VisibilityTimeout": "360"})["QueueUrl"]
        operator_capture = sqs.create_queue(QueueName="operator-capture")["QueueUrl"]
        sns = boto3.client("sns", region_name=REGION)
        topic = sns.create_topic(Name="changes")["TopicArn"]
        operator_topic = sns.create_topic(Name="operator")["TopicArn"]

        def queue_arn(url: str) -> str:
            return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

        sns.subscribe(
            TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(capture), Attributes={"RawMessageDelivery": "true"}
        )
        sns.subscribe(TopicArn=operator_topic, Protocol="sqs", Endpoint=queue_arn(operator_capture))
        boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=SENDER)
        for name, value in {
            "ARCHIVE_BUCKET": BUCKET,
            "DOCUMENTS_TABLE": "documents",
            "SUBSCRIBERS_TABLE": "subscribers",
            "DELIVERIES_TABLE": "deliveries",
            "FETCH_QUEUE_URL": fetch_queue,
            "CHANGE_TOPIC_ARN": topic,
            "OPERATOR_TOPIC_ARN": operator_topic,
            "FAILURE_ALERT_AFTER": "3",
            "SENDER_EMAIL": SENDER,
            "CONNECT_TIMEOUT_SECONDS": "2",
            "READ_TIMEOUT_SECONDS": "3",
            "RETRY_BASE_DELAY_MS": "20",  # real retries, short waits
            "DELIVERY_QUEUE_URL": delivery_queue,
            "DELIVERY_DLQ_URL": delivery_dlq,
            "DELIVERY_ATTEMPTS": "3",
            "DELIVERY_BACKOFF_BASE_SECONDS": "0",  # retries visible at once: the test drives the queue
            "PUBLIC_BASE_URL": "https://policywatch.test",
            "WEBHOOK_CONNECT_TIMEOUT_MS": "300",
            "WEBHOOK_READ_TIMEOUT_MS": "500",
        }.items():
            monkeypatch.setenv(name, value)
        yield Stack(BUCKET, fetch_queue, topic, capture, operator_capture, delivery_queue, delivery_dlq)
        aws.reset()


def sqs_event(*bodies: dict[str, Any], group: str | None = None, receives: int = 1) -> dict[str, Any]:
    """An SQS event as Lambda delivers it; ``group`` is the FIFO message group (default: one per body)."""
    return {
        "Records": [
            {
                "messageId": f"m{i}",
                "receiptHandle": f"r{i}",
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": str(receives), "MessageGroupId": group or f"g{i}"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
                "awsRegion": REGION,
            }
            for i, body in enumerate(bodies)
        ]
    }


def s3_event(bucket: str, *keys: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventName": "ObjectCreated:Put",
                "eventTime": "2025-08-29T00:32:02.000Z",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": key.replace(":", "%3A"), "size": 1, "eTag": "x", "sequencer": "1"},
                },
            }
            for key in keys
        ]
    }


def put_version(stack, text: str, when: datetime) -> str:
    """Archive ``text`` as a Claude.ai privacy policy version fetched at ``when``, as the fetch stage does."""
    key = f"versions/anthropic/privacy-policy/{stamp(when)}.md"
    body = text.encode()
    stack.s3.put_object(
        Bucket=stack.bucket,
        Key=key,
        Body=body,
        Metadata={
            "sha256": sha256(body),
            "fingerprint": fingerprint(text),
            "fetched-at": when.isoformat(),
            "source-url": "https://www.anthropic.com/legal/privacy",
            "document-type": "Privacy Policy",
        },
    )
    return key


def claude_text(date: str) -> str:
    """The Claude.ai privacy policy of ``date`` from the corpus, extracted."""
    return extract(corpus_page(f"claude-ai/privacy-policy/{date}.html"), ["main"])


T0 = datetime.now(UTC) - timedelta(days=1)  # recent: the digest looks back a week


def training_change(stack, context, when: datetime | None = None) -> dict:
    """The 2025-08-29 training change, diffed and published; returns the published event and attributes."""
    when = when or T0
    put_version(stack, claude_text("2025-08-28"), when)
    key = put_version(stack, claude_text("2025-08-29"), when + timedelta(hours=12))
    diff_handler.handler(s3_event(stack.bucket, key), context)
    published = stack.published_changes()
    assert len(published) == 1
    return published[0]
