"""Change records: what the diff stage builds, writes to the archive and publishes to the change topic.

Records and events follow the contract in ``policywatch.core.events`` and are validated before
anything is written or published.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from policywatch.analysis.assess import FLAP_WINDOW, analyse
from policywatch.catalog import CatalogError, load_packaged
from policywatch.core import clock
from policywatch.core.events import SCHEMA_VERSION, change_id, event_from_record, validate
from policywatch.storage.archive import Archive, VersionRef, parse_key
from policywatch.storage.topics import Topic

logger = Logger(child=True)


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


def process_version(
    archive: Archive, version_key: str, topic: Topic, now: datetime | None = None
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
        publish(record, record_key, topic)
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


def publish(record: dict[str, Any], record_key: str, topic: Topic) -> None:
    """The change event on the change topic, with the attributes subscriptions filter on."""
    event = event_from_record(record, record_key)
    validate(event)
    attributes = {
        "platform": record["platform"],
        "document_type": record["document_type"],
        "severity": record["severity"],
        "categories": list(record["categories"]),
    }
    topic.publish(json.dumps(event, ensure_ascii=False), attributes=attributes)
