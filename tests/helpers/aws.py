"""The moto stack the integration tests run against: its names and a handle on its resources.

The fixture that builds it is ``stack`` in tests/integration/conftest.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3

REGION = "us-east-1"
BUCKET = "policywatch-archive-123456789012-us-east-1"
SENDER = "alerts@policywatch.test"


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
    fanout_queue_url: str = ""

    @property
    def s3(self):
        return boto3.client("s3", region_name=REGION)

    @property
    def sqs(self):
        return boto3.client("sqs", region_name=REGION)

    @property
    def dynamodb(self):
        return boto3.client("dynamodb", region_name=REGION)

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


def stack_secrets() -> tuple[str, str]:
    """The stack's two generated secrets, as template.yaml declares them (SiteSecret, BillingSecret): their ARNs."""
    secrets = boto3.client("secretsmanager", region_name=REGION)
    return tuple(  # type: ignore[return-value]
        secrets.create_secret(Name=name, SecretString=value)["ARN"]
        for name, value in (("site-secret", "s" * 64), ("billing-secret", BILLING_SECRET))
    )


BILLING_SECRET = "billing0secret0for0tests0only0aaaaaaaaaaaaaaaaaa"  # noqa: S105 - a test value
