"""boto3 clients, created lazily (never at import time: cold starts and moto).

Clients are thread-safe and shared; creating one is not, so creation takes a lock.
Resources are not thread-safe: each thread gets its own (the fetch function works on a
batch's message groups in parallel threads).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30, max_pool_connections=32
)
_lock = threading.Lock()
_clients: dict[str, Any] = {}
_local = threading.local()
_generation = 0


def client(service: str) -> Any:
    found = _clients.get(service)
    if found is None:
        with _lock:
            found = _clients.get(service)
            if found is None:
                found = _clients[service] = boto3.client(service, config=_CONFIG)
    return found


def resource(service: str) -> Any:
    cached = getattr(_local, "resources", None)
    if cached is None or getattr(_local, "generation", None) != _generation:
        cached = _local.resources = {}
        _local.generation = _generation
    if service not in cached:
        with _lock:
            cached[service] = boto3.resource(service, config=_CONFIG)
    return cached[service]


def reset() -> None:
    """Forget cached clients and resources (tests switch between moto and other endpoints)."""
    global _generation
    with _lock:
        _clients.clear()
        _generation += 1


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


@cache
def _deserializer() -> Any:
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


def to_dynamodb(item: dict[str, Any]) -> dict[str, Any]:
    """A plain item as the low-level client's attribute values."""
    serializer = dynamodb_serializer()
    return {k: serializer.serialize(v) for k, v in item.items()}


def from_dynamodb(item: dict[str, Any]) -> dict[str, Any]:
    """The low-level client's attribute values as a plain item (numbers come back as Decimal)."""
    deserializer = _deserializer()
    return {k: deserializer.deserialize(v) for k, v in item.items()}
