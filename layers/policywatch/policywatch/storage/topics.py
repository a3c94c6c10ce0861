"""SNS topics: the change topic the analysis stage publishes to, and the operator topic."""

from __future__ import annotations

import json
from collections.abc import Sequence

from policywatch.storage import clients
from policywatch.storage.errors import adapter


@adapter
class Topic:
    """One SNS topic. Attribute values are strings, or string arrays (``String.Array``)."""

    def __init__(self, arn: str) -> None:
        self.arn = arn

    def publish(self, message: str, *, subject: str | None = None, attributes: dict[str, str | Sequence[str]]) -> str:
        """Publish ``message``; returns SNS's message id."""
        request: dict = {"TopicArn": self.arn, "Message": message, "MessageAttributes": _attributes(attributes)}
        if subject:
            request["Subject"] = subject[:100]  # SNS's limit
        return clients.client("sns").publish(**request)["MessageId"]


def _attributes(values: dict[str, str | Sequence[str]]) -> dict[str, dict[str, str]]:
    return {
        name: {"DataType": "String", "StringValue": value}
        if isinstance(value, str)
        else {"DataType": "String.Array", "StringValue": json.dumps(list(value))}
        for name, value in values.items()
    }
