"""boto3 clients, created lazily (never at import time: cold starts and moto).

Clients are thread-safe and shared (the fetch function works on a batch's message groups
in parallel threads); creating one is not, so creation takes a lock. Resources are not
thread-safe: code that runs in threads uses clients.
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
# Paced sends (storage.outbound) make one attempt per call: a throttled send waits for its slot in
# the shared schedule, not on botocore's own backoff.
_SENDER_CONFIG = _CONFIG.merge(Config(retries={"mode": "standard", "total_max_attempts": 1}))
_lock = threading.Lock()
_cached: dict[tuple[str, str], Any] = {}


def _get(kind: str, service: str) -> Any:
    found = _cached.get((kind, service))
    if found is None:
        with _lock:
            found = _cached.get((kind, service))
            if found is None:
                make = getattr(boto3, "client" if kind == "sender" else kind)
                found = make(service, config=_SENDER_CONFIG if kind == "sender" else _CONFIG)
                _cached[(kind, service)] = found
    return found


def client(service: str) -> Any:
    return _get("client", service)


def sender(service: str) -> Any:
    """A client for paced sends (``storage.outbound``): one attempt per call."""
    return _get("sender", service)


def resource(service: str) -> Any:
    return _get("resource", service)


def reset() -> None:
    """Forget cached clients and resources (tests switch between moto and other endpoints)."""
    with _lock:
        _cached.clear()


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
