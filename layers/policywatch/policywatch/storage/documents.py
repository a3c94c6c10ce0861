"""Document fetch state in DynamoDB: validators, hashes, successes and failures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from policywatch.storage import clients as aws
from policywatch.storage.errors import adapter

RECENT_FINGERPRINTS = 10


@dataclass
class DocumentState:
    document_key: str
    fingerprint: str | None = None
    raw_sha256: str | None = None
    text_chars: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    recent_fingerprints: list[str] = field(default_factory=list)
    last_success_at: str | None = None
    last_change_at: str | None = None
    last_version_key: str | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    last_failed_sweep: str | None = None  # failures count once per sweep, not once per retry
    alerted: bool = False  # an operator alert is out for this document's failures
    declaration: str | None = None  # hash of the declaration the validators and fingerprint came from
    extractor_version: str | None = None
    last_snapshot_key: str | None = None
    extracted_sha256: str | None = None  # the raw pages the current fingerprint was extracted from
    last_redirects: list[str] = field(default_factory=list)
    collapsed_fetches: int = 0  # sweeps in a row whose text was refused as collapsed
    accept_next: bool = False  # `policywatch accept`: the next text is taken, collapsed or with an error notice
    notice: str | None = None  # an error notice the last accepted text carried as page chrome

    def record_extraction(
        self, fingerprint: str, text_chars: int, declaration: str, extractor: str, version_key: str | None = None
    ) -> None:
        """The text now archived for this document, by ``extractor`` (its version), and
        ``version_key`` when a new version was written."""
        if version_key:
            self.last_version_key = version_key
            recent = [fingerprint] + [f for f in self.recent_fingerprints if f != fingerprint]
            self.recent_fingerprints = recent[:RECENT_FINGERPRINTS]
        self.fingerprint = fingerprint
        self.text_chars = text_chars
        self.declaration = declaration
        self.extractor_version = extractor

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> DocumentState:
        known = set(cls.__dataclass_fields__)
        values = {k: v for k, v in item.items() if k in known}
        if "text_chars" in values and values["text_chars"] is not None:
            values["text_chars"] = int(values["text_chars"])
        values["consecutive_failures"] = int(values.get("consecutive_failures", 0))
        values["alerted"] = bool(values.get("alerted", False))
        values["collapsed_fetches"] = int(values.get("collapsed_fetches", 0))
        values["accept_next"] = bool(values.get("accept_next", False))
        return cls(**values)

    def to_item(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@adapter
class DocumentStates:
    """Data access for the documents table (partition key ``document_key``).

    Uses the low-level client, which is thread-safe and shared: the fetch function works on
    a batch in parallel threads, and a boto3 resource per thread costs tens of milliseconds.
    """

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def get(self, document_key: str) -> DocumentState:
        item = (
            aws.client("dynamodb")
            .get_item(TableName=self.table_name, Key={"document_key": {"S": document_key}}, ConsistentRead=True)
            .get("Item")
        )
        return DocumentState.from_item(aws.from_dynamodb(item)) if item else DocumentState(document_key)

    def put(self, state: DocumentState) -> None:
        aws.client("dynamodb").put_item(TableName=self.table_name, Item=aws.to_dynamodb(state.to_item()))

    def all(self) -> list[DocumentState]:
        items = aws.all_items(aws.client("dynamodb").scan, TableName=self.table_name)
        return sorted((DocumentState.from_item(aws.from_dynamodb(i)) for i in items), key=lambda s: s.document_key)
