"""Change records: what the diff stage builds, writes to the archive and publishes to the change topic.

Records and events follow the contract in ``policywatch.core.events`` and are validated before
anything is written or published.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from policywatch.analysis.assess import Analysis, analyse, words_key_of
from policywatch.analysis.reminders import update_reminders
from policywatch.analysis.site import document_type_of, record_version
from policywatch.catalog import CatalogError, load_packaged
from policywatch.core import clock
from policywatch.core.events import SCHEMA_VERSION, change_id, event_from_record, validate
from policywatch.storage.archive import Archive, VersionRef, parse_key
from policywatch.storage.schedules import Schedules
from policywatch.storage.site import SiteIndex
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
    seen_fingerprints: Collection[str] = (),
    seen_words: Collection[str] = (),
    fingerprint: str,
    now: datetime,
) -> dict[str, Any]:
    """The change record of ``current`` against ``previous`` (docs/change-event.md); ``seen_*``
    are the fingerprints and words keys of the versions before ``previous``."""
    analysis = analyse(
        old_text,
        new_text,
        seen_fingerprints=set(seen_fingerprints),
        seen_words=set(seen_words),
        fingerprint=fingerprint or None,
        reextracted=current.metadata.get("origin") == "reextract",
    )
    return _record(previous, current, analysis, document_type=document_type, now=now)


def _record(
    previous: VersionRef, current: VersionRef, analysis: Analysis, *, document_type: str, now: datetime
) -> dict[str, Any]:
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
    archive: Archive,
    version_key: str,
    topic: Topic,
    now: datetime | None = None,
    site: SiteIndex | None = None,
    schedules: Schedules | None = None,
) -> dict[str, Any] | None:
    """Diff a newly archived version against its predecessor; record and publish the change,
    write the version and its change to the site's read model (``site``), and update the
    document's effective-date reminders (``schedules``).

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
        if site is not None:
            first = archive.version_ref(version_key)
            _index(site, first, archive.get(version_key).decode())
        return None
    previous, current = archive.version_ref(earlier[-1]), archive.version_ref(version_key)
    old_text, new_text = archive.get(previous.key).decode(), archive.get(current.key).decode()
    if old_text == new_text:
        logger.info("identical text archived twice: no change", extra={"version": version_key})
        return None
    memory = Memory.load(archive, earlier)
    analysis = analyse(
        old_text,
        new_text,
        seen_fingerprints=set(memory.fingerprints[:-1]),  # the previous version is compared in full
        seen_words=set(memory.words[:-1]),
        fingerprint=current.metadata.get("fingerprint") or None,
        reextracted=current.metadata.get("origin") == "reextract",
    )
    record = _record(
        previous,
        current,
        analysis,
        document_type=document_type_of(current),
        now=now,
    )
    validate(record)
    if record["alert"]:
        publish(record, record_key, topic)
    if site is not None:  # before the record: a retry finds no record and writes these again
        _index(site, current, new_text, record, record_key)
    if schedules is not None:  # before the record too: a retry cancels and schedules them again
        update_reminders(schedules, record, record_key, now)
    # Written after publishing: a crash in between republishes on retry, and the
    # delivery records downstream make the second publication a no-op.
    archive.put_json(record_key, record)
    memory.remember(current, analysis.words_key)
    if record.get("limits"):  # a version built to defeat the diff, or one far larger than any policy
        logger.warning(
            "change recorded with a limited analysis",
            extra={"change_id": record["change_id"], "limits": [entry["step"] for entry in record["limits"]]},
        )
    logger.info("change recorded", extra={"change_id": record["change_id"], "kind": record["kind"]})
    return record


def _index(
    site: SiteIndex,
    version: VersionRef,
    text: str,
    record: dict[str, Any] | None = None,
    record_key: str | None = None,
) -> None:
    record_version(
        site,
        version,
        text,
        platform_name=platform_name(version.platform),
        document_type=document_type_of(version),
        record=record,
        record_key=record_key,
    )


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


# A document's memory is rebuilt from its archived versions when missing or behind (a stack
# upgraded to it, a crash between a change record and the memory): from the most recent
# ``MEMORY_REBUILD_VERSIONS`` of them, each read once: 50 GETs, and their words in 0.2 s on
# this machine for Llama API's 290 KB privacy policy (passages shared between versions are
# read once), far within the function's 60 s.
MEMORY_REBUILD_VERSIONS = 50


@dataclass
class Memory:
    """Every text a document had: the fingerprint and the words key of each archived version,
    oldest first, through ``last`` (a version key), at ``memory/{platform}/{document}.json``.

    The flap rule reads it: a version whose text, or whose words, the document had before its
    previous version is a flap, never an alert, however long ago that was (issue 13)."""

    archive: Archive = field(repr=False)
    key: str
    last: str = ""
    fingerprints: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, archive: Archive, earlier: list[str]) -> Memory:
        """The memory through ``earlier[-1]`` (the version before the one being diffed)."""
        _, platform, document, _ = parse_key(earlier[-1])
        memory = cls(archive, f"memory/{platform}/{document}.json")
        raw = archive.get_optional(memory.key)
        if raw is not None:
            try:
                stored = json.loads(raw)
                memory.last, memory.fingerprints, memory.words = stored["last"], stored["fingerprints"], stored["words"]
            except (ValueError, KeyError, TypeError):
                logger.warning("unreadable document memory: rebuilt", extra={"key": memory.key})
                memory.last = ""
        if memory.last != earlier[-1] or len(memory.fingerprints) != len(memory.words):
            memory.rebuild(earlier[-MEMORY_REBUILD_VERSIONS:])
        return memory

    def rebuild(self, keys: list[str]) -> None:
        logger.info("document memory rebuilt from its versions", extra={"key": self.key, "versions": len(keys)})
        self.fingerprints, self.words = [], []
        for key in keys:
            self.fingerprints.append(self.archive.version_ref(key).metadata.get("fingerprint", ""))
            self.words.append(words_key_of(self.archive.get(key).decode()))
        self.last = keys[-1]

    def remember(self, version: VersionRef, words: str) -> None:
        """Add ``version`` and store the memory (after its change record: a crash in between
        leaves a memory behind, which the next version rebuilds)."""
        self.fingerprints.append(version.metadata.get("fingerprint", ""))
        self.words.append(words)
        self.last = version.key
        self.archive.put_json(self.key, {"last": self.last, "fingerprints": self.fingerprints, "words": self.words})
