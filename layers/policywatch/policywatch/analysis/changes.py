"""Change records and change events: what the diff stage writes to S3 and publishes to SNS.

Both follow ``data/change.schema.json`` (docs/change.schema.json; explained in
docs/change-event.md) and are validated before anything is written or published;
``schema_version`` changes when a field's meaning does.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from aws_lambda_powertools import Logger

from policywatch.analysis.assess import FLAP_WINDOW, analyse
from policywatch.catalog import CatalogError, load_packaged
from policywatch.core import clock
from policywatch.storage import clients as aws
from policywatch.storage.archive import Archive, VersionRef, parse_key

SCHEMA_VERSION = "2"
MAX_EVENT_BLOCKS = 20
MAX_EVENT_BYTES = 200_000  # SNS takes 256 KB with attributes; keep a margin

logger = Logger(child=True)


class ChangeRecordError(ValueError):
    """A change record or event does not follow docs/change.schema.json: nothing is written or sent."""


def change_id(previous_sha: str, current_sha: str) -> str:
    """Same pair of versions, same id: the idempotency key of everything downstream."""
    return hashlib.sha256(f"{previous_sha}:{current_sha}".encode()).hexdigest()[:24]


def platform_name(platform_id: str) -> str:
    try:
        return load_packaged().platform(platform_id).name
    except CatalogError:
        return platform_id


def build_record(
    previous: VersionRef,
    current: VersionRef,
    old_text: str,
    new_text: str,
    *,
    document_type: str,
    recent_fingerprints: list[str],
    fingerprint: str,
    now: datetime,
) -> dict[str, Any]:
    """The change record of ``current`` against ``previous`` (docs/change-event.md)."""
    analysis = analyse(
        old_text,
        new_text,
        recent_fingerprints=set(recent_fingerprints),
        fingerprint=fingerprint or None,
        reextracted=current.metadata.get("origin") == "reextract",
    )
    return {
        "schema_version": SCHEMA_VERSION,
        "change_id": change_id(previous.sha256, current.sha256),
        "platform": current.platform,
        "platform_name": platform_name(current.platform),
        "document": current.document,
        "document_type": document_type,
        "detected_at": clock.iso(now),
        **analysis.to_dict(),
        "evidence": {"previous": previous.to_dict(), "current": current.to_dict()},
    }


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((resources.files("policywatch.core") / "change.schema.json").read_text())
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


def load_event(archive: Archive, record_key: str) -> dict[str, Any]:
    """The change event of a recorded change, as it was published (retries read it again from here)."""
    return event_from_record(json.loads(archive.get(record_key)), record_key)


def process_version(
    archive: Archive, version_key: str, topic_arn: str, now: datetime | None = None
) -> dict[str, Any] | None:
    """Diff a newly archived version against its predecessor; record and publish the change.

    Returns the change record, or None when there is nothing to compare or it was done before.
    """
    now = now or clock.now()
    _, platform, document, fetched = parse_key(version_key)
    record_key = f"changes/{platform}/{document}/{fetched}.json"
    if archive.head(record_key) is not None:
        logger.info("change already recorded", extra={"record_key": record_key})
        return None
    earlier = archive.earlier_versions(version_key)
    if not earlier:
        logger.info("first version of the document: nothing to compare", extra={"version": version_key})
        return None
    previous, current = archive.version_ref(earlier[-1]), archive.version_ref(version_key)
    # Flap window: the versions before the previous one (the previous one is compared in full).
    recent = [archive.version_ref(k).metadata.get("fingerprint", "") for k in earlier[-1 - FLAP_WINDOW : -1]]
    old_text, new_text = archive.get(previous.key).decode(), archive.get(current.key).decode()
    if old_text == new_text:
        logger.info("identical text archived twice: no change", extra={"version": version_key})
        return None
    record = build_record(
        previous,
        current,
        old_text,
        new_text,
        document_type=current.metadata.get("document-type", document.replace("-", " ").title()),
        recent_fingerprints=[f for f in recent if f],
        fingerprint=current.metadata.get("fingerprint", ""),
        now=now,
    )
    validate(record)
    if record["alert"]:
        publish(record, record_key, topic_arn)
    # Written after publishing: a crash in between republishes on retry, and the
    # delivery records downstream make the second publication a no-op.
    archive.put_json(record_key, record)
    if record.get("limits"):  # a version built to defeat the diff, or one far larger than any policy
        logger.warning(
            "change recorded with a limited analysis",
            extra={"change_id": record["change_id"], "limits": [entry["step"] for entry in record["limits"]]},
        )
    logger.info("change recorded", extra={"change_id": record["change_id"], "kind": record["kind"]})
    return record


def publish(record: dict[str, Any], record_key: str, topic_arn: str) -> None:
    attributes = {
        "platform": {"DataType": "String", "StringValue": record["platform"]},
        "document_type": {"DataType": "String", "StringValue": record["document_type"]},
        "severity": {"DataType": "String", "StringValue": record["severity"]},
        "categories": {"DataType": "String.Array", "StringValue": json.dumps(record["categories"])},
    }
    event = event_from_record(record, record_key)
    validate(event)
    aws.client("sns").publish(
        TopicArn=topic_arn,
        Message=json.dumps(event, ensure_ascii=False),
        MessageAttributes=attributes,
    )
