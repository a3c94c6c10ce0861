"""Lambda events made from what AWS returned, for benchmarks and tests that play the event source."""

from __future__ import annotations

from typing import Any


def sqs_event(messages: list[dict[str, Any]], queue_arn: str = "", region: str = "us-east-1") -> dict[str, Any]:
    """Messages from ``receive_message(AttributeNames=["All"])`` as an SQS event source mapping delivers them."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }
