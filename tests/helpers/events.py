"""Lambda's side of an invocation: the context object and the events SQS and S3 deliver."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.helpers.aws import REGION


@dataclass
class LambdaContext:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


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
