"""The evidence archive in S3: raw snapshots, extracted versions and change records.

Keys (``stamp`` is the fetch time, sortable, e.g. ``2025-08-29T003202.123Z``):
    snapshots/{platform}/{document}/{stamp}.html   raw bytes, when the raw page changed
    versions/{platform}/{document}/{stamp}.md      extracted Markdown, when the text changed
    changes/{platform}/{document}/{stamp}.json     the change record for that version
    memory/{platform}/{document}.json              every text the document had (the flap rule)
    config/catalog.json                            operator's catalog override (optional)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from policywatch.core import clock
from policywatch.core.errors import InputError
from policywatch.evidence import chain
from policywatch.evidence.chain import sha256  # noqa: F401 - storage.archive.sha256, as its callers import it
from policywatch.storage import clients as aws
from policywatch.storage.errors import adapter

CATALOG_KEY = "config/catalog.json"


STAMP_WIDTH = len("2025-08-29T003202.123Z")  # stamps are fixed width: a key's name starts with one


def stamp(moment: datetime) -> str:
    """Sortable, URL-safe timestamp used in keys."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H%M%S") + f".{moment.microsecond // 1000:03d}Z"


def parse_stamp(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H%M%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class VersionRef:
    """One archived version: where it is and what it hashes to."""

    key: str
    platform: str
    document: str
    fetched_at: str
    sha256: str
    source_url: str
    metadata: dict[str, str] = field(default_factory=dict, compare=False, repr=False)  # all of the object's

    def to_dict(self) -> dict[str, str]:
        return {
            "key": self.key,
            "fetched_at": self.fetched_at,
            "sha256": self.sha256,
            "source_url": self.source_url,
        }


def key_for(kind: str, document_key: str, fetched: datetime, ext: str) -> str:
    return f"{kind}/{document_key}/{stamp(fetched)}.{ext}"


def parse_key(key: str) -> tuple[str, str, str, str]:
    """'versions/anthropic/privacy-policy/2025-...Z.md' -> (kind, platform, document, stamp)."""
    parts = key.split("/")
    if len(parts) != 4 or "." not in parts[3]:
        raise InputError(f"not an archive key: {key!r}")
    return parts[0], parts[1], parts[2], parts[3].rsplit(".", 1)[0]


def _missing(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound")


@adapter
class Archive:
    """The archive bucket. Writes are whole objects: nothing is ever half-written."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket
        self.s3 = aws.client("s3")

    def put(self, key: str, body: bytes, content_type: str, metadata: dict[str, str]) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, Metadata=metadata)

    def get(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def head(self, key: str) -> dict[str, Any] | None:
        try:
            return self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def get_optional(self, key: str) -> bytes | None:
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def keys(self, prefix: str) -> list[str]:
        """Every key under ``prefix``, sorted (stamps sort chronologically)."""
        keys: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        return sorted(keys)

    def version_ref(self, key: str) -> VersionRef:
        head = self.head(key)
        if head is None:
            raise KeyError(f"version {key} is not in the archive")
        _, platform, document, fetched = parse_key(key)
        meta = head.get("Metadata", {})
        return VersionRef(
            key=key,
            platform=platform,
            document=document,
            fetched_at=meta.get("fetched-at", fetched),
            sha256=meta.get("sha256", ""),
            source_url=meta.get("source-url", ""),
            metadata=meta,
        )

    def newest_version(self, document_key: str) -> str | None:
        """The key of the document's newest archived version, or None (one listing)."""
        keys = self.keys(f"versions/{document_key}/")
        return max(keys) if keys else None

    def earlier_versions(self, key: str) -> list[str]:
        """Versions of the same document archived before ``key``, oldest first (one listing)."""
        return [k for k in self.keys(key.rsplit("/", 1)[0] + "/") if k < key]

    def put_version(self, document_key: str, moment: datetime, text: str, metadata: dict[str, str]) -> str:
        """Archive extracted text as ``versions/{document}/{stamp}.md`` with its SHA-256, then chain it
        (``evidence.chain``: its manifest, after the document's head); returns the version's key."""
        body = text.encode()
        key = key_for("versions", document_key, moment, "md")
        self.put(key, body, "text/markdown; charset=utf-8", {**metadata, "sha256": sha256(body)})
        self.chain(document_key)
        return key

    def chain(self, document_key: str) -> list[str]:
        """Write the manifests of the document's versions newer than its chain's head, oldest first.

        Usually the one version just written. Also the versions of an archive from before chains
        existed (the chain then starts at the first version), and one whose manifest a crash kept
        from being written: the next version written chains it first. A version older than the head
        without a manifest cannot be inserted any more; ``policywatch verify`` names it.
        Returns the manifest keys written.
        """
        manifests = self.keys(f"manifests/{document_key}/")
        head = manifests[-1] if manifests else None
        head_bytes = self.get(head) if head else None
        after = chain.link_after(head_bytes)
        written = []
        for version in self.keys(f"versions/{document_key}/"):
            manifest_key = chain.manifest_key(version)
            if head is not None and manifest_key <= head:
                continue
            head_info = self.head(version) or {}
            metadata = head_info.get("Metadata", {})
            entry = chain.manifest(
                document=document_key,
                version=version,
                text_sha256=metadata.get("sha256") or sha256(self.get(version)),
                snapshots=self._snapshots(metadata.get("snapshot-key", "")),
                metadata=metadata,
                after=after,
                chained_at=clock.iso(),
            )
            data = chain.canonical(entry)
            self.put(manifest_key, data, "application/json", {"sha256": sha256(data)})
            after = chain.Link(entry["sequence"], sha256(data))
            written.append(manifest_key)
        return written

    def _snapshots(self, first: str) -> list[tuple[str, str]]:
        """The raw pages a version came from: its first snapshot and the document's other pages fetched with it."""
        if not first:
            return []
        stamp_prefix = first.rsplit("/", 1)[0] + "/" + first.rsplit("/", 1)[1][:STAMP_WIDTH]
        found = []
        for key in self.keys(stamp_prefix):
            meta = (self.head(key) or {}).get("Metadata", {})
            found.append((key, meta.get("sha256") or sha256(self.get(key))))
        return found

    def put_json(self, key: str, record: dict[str, Any]) -> None:
        body = json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False).encode()
        self.put(key, body, "application/json", {"sha256": sha256(body)})
