"""The change-event contract: what the analysis stage writes and publishes, and what notification and
the web pages read (``change.schema.json`` beside this module; docs/change-event.md explains it).

A change record is validated before it is written, an event before it is published;
``SCHEMA_VERSION`` changes when a field's meaning does.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from policywatch.core.errors import InputError, InternalError

if TYPE_CHECKING:
    import jsonschema

SCHEMA_VERSION = "2"
MAX_EVENT_BLOCKS = 20
MAX_EVENT_BYTES = 200_000  # SNS takes 256 KB with attributes; keep a margin

# What notification reads of a change event.
REQUIRED_FIELDS = (
    "change_id",
    "platform",
    "platform_name",
    "document_type",
    "detected_at",
    "alert",
    "severity",
    "summary",
    "blocks",
    "evidence",
    "record_key",
)


class ChangeRecordError(InternalError, ValueError):
    """A change record or event we built does not follow the schema: nothing is written or sent."""


class ChangeEventError(InputError):
    """A message on the notify queue is not a change event; it goes to the DLQ, nothing is sent."""


def change_id(previous_sha: str, current_sha: str) -> str:
    """Same pair of versions, same id: the idempotency key of everything downstream."""
    return hashlib.sha256(f"{previous_sha}:{current_sha}".encode()).hexdigest()[:24]


@cache
def _validator() -> jsonschema.Draft202012Validator:
    import jsonschema  # here: only the analysis stage validates, and jsonschema is slow to import

    schema = json.loads((resources.files(__package__) / "change.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


def validate(document: dict[str, Any]) -> None:
    """Refuse a record or event that does not follow the schema, naming the first problem."""
    error = next(iter(_validator().iter_errors(document)), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise ChangeRecordError(f"change {document.get('change_id', '?')}: {where}: {error.message}")


def event_from_record(record: dict[str, Any], record_key: str) -> dict[str, Any]:
    """The SNS message: the record with only its substantive passages, as many as fit a message."""
    passages = [b for b in record["blocks"] if b["class"] == "text"]
    limit = MAX_EVENT_BLOCKS
    while True:
        event = {**record, "blocks": passages[:limit], "record_key": record_key}
        event["blocks_truncated"] = len(passages) > limit
        if limit == 0 or len(json.dumps(event, ensure_ascii=False).encode()) <= MAX_EVENT_BYTES:
            return event
        limit //= 2


def parse_change_event(body: str) -> dict[str, Any]:
    """A change event from a notify queue message, or ChangeEventError saying why it is not one."""
    try:
        change = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ChangeEventError(f"change event is not JSON: {exc}") from None
    if not isinstance(change, dict):
        raise ChangeEventError(f"change event is a JSON {type(change).__name__}, not an object")
    missing = [name for name in REQUIRED_FIELDS if name not in change]
    if missing:
        raise ChangeEventError(f"change event {change.get('change_id', '(no id)')} lacks {', '.join(missing)}")
    return change
