"""boto3 clients, created lazily (never at import time: cold starts and moto)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)


@cache
def client(service: str) -> Any:
    return boto3.client(service, config=_CONFIG)


@cache
def resource(service: str) -> Any:
    return boto3.resource(service, config=_CONFIG)


def reset() -> None:
    """Forget cached clients (tests switch between moto and other endpoints)."""
    client.cache_clear()
    resource.cache_clear()


@cache
def dynamodb_serializer() -> Any:
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer()


def all_items(operation: Callable[..., dict[str, Any]], **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item of a DynamoDB table ``scan`` or ``query``, following LastEvaluatedKey."""
    while True:
        page = operation(**kwargs)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
