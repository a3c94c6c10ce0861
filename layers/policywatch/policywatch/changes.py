"""Change records and change events: what the diff stage writes to S3 and publishes to SNS.

The schema is documented in docs/change-event.md; ``schema_version`` changes when a field's
meaning does.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from policywatch import aws, clock
from policywatch.archive import Archive, VersionRef, parse_key
from policywatch.catalog import CatalogError, load_packaged
from policywatch.diff import compare, summarise

SCHEMA_VERSION = "1"
MAX_EVENT_BLOCKS = 20
FLAP_WINDOW = 10

logger = Logger(child=True)


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
    comparison = compare(old_text, new_text)
    kind = comparison.kind
    if kind != "none" and current.metadata.get("origin") == "reextract":
        kind = "technical"  # rebuilt from a stored snapshot by `policywatch reextract`: never alerts
    elif kind == "substantive" and fingerprint in recent_fingerprints:
        kind = "flap"  # the text came back to a version seen recently
    alert = kind == "substantive"
    return {
        "schema_version": SCHEMA_VERSION,
        "change_id": change_id(previous.sha256, current.sha256),
        "platform": current.platform,
        "platform_name": platform_name(current.platform),
        "document": current.document,
        "document_type": document_type,
        "detected_at": clock.iso(now),
        "kind": kind,
        "alert": alert,
        "severity": "medium" if alert else "none",
        "categories": [],
        "summary": summarise(document_type, comparison)
        if comparison.blocks
        else f"{document_type}: no substantive change.",
        "counts": comparison.counts,
        "blocks": [b.to_dict() for b in comparison.blocks],
        "evidence": {"previous": previous.to_dict(), "current": current.to_dict()},
    }


def event_from_record(record: dict[str, Any], record_key: str) -> dict[str, Any]:
    """The SNS message: the record with its block list capped to fit a message."""
    event = {**record, "blocks": record["blocks"][:MAX_EVENT_BLOCKS], "record_key": record_key}
    event["blocks_truncated"] = len(record["blocks"]) > MAX_EVENT_BLOCKS
    return event


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
    record = build_record(
        previous,
        current,
        archive.get(previous.key).decode(),
        archive.get(current.key).decode(),
        document_type=current.metadata.get("document-type", document.replace("-", " ").title()),
        recent_fingerprints=[f for f in recent if f],
        fingerprint=current.metadata.get("fingerprint", ""),
        now=now,
    )
    if record["kind"] == "none":
        logger.info("identical text archived twice: no change", extra={"version": version_key})
        return None
    if record["alert"]:
        publish(record, record_key, topic_arn)
    # Written after publishing: a crash in between republishes on retry, and the
    # delivery records downstream make the second publication a no-op.
    archive.put_json(record_key, record)
    logger.info("change recorded", extra={"change_id": record["change_id"], "kind": record["kind"]})
    return record


def publish(record: dict[str, Any], record_key: str, topic_arn: str) -> None:
    attributes = {
        "platform": {"DataType": "String", "StringValue": record["platform"]},
        "document_type": {"DataType": "String", "StringValue": record["document_type"]},
        "severity": {"DataType": "String", "StringValue": record["severity"]},
        "categories": {"DataType": "String.Array", "StringValue": json.dumps(record["categories"])},
    }
    aws.client("sns").publish(
        TopicArn=topic_arn,
        Message=json.dumps(event_from_record(record, record_key), ensure_ascii=False),
        MessageAttributes=attributes,
    )
