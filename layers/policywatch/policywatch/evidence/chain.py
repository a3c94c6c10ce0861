"""A hash chain per document: one manifest per archived version, each naming the previous one's hash.

A manifest (``manifests/{platform}/{document}/{stamp}.json``, beside its version) records the
version's text SHA-256, the raw snapshot(s) it was extracted from and their SHA-256, when and
from where it was fetched, the extractor version, its place in the chain (``sequence``, from 1)
and the SHA-256 of the previous manifest's exact bytes (``previous``; none for the first).
Manifests are canonical JSON (sorted keys, no spaces, UTF-8), so anyone recomputes the same
hash with ``sha256sum``. A version removed, inserted, reordered or edited anywhere breaks the
chain at that point: ``check`` names the first manifest that does not follow.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from policywatch.core.errors import InputError

SCHEMA = "policywatch.manifest/1"


class ChainError(InputError):
    """A chain that does not hold: the message names the first manifest that breaks it, and how."""


def canonical(value: Any) -> bytes:
    """The exact bytes a manifest or checkpoint is stored and hashed as."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_key(version_key: str) -> str:
    """``versions/a/b/{stamp}.md`` -> ``manifests/a/b/{stamp}.json``."""
    kind, _, rest = version_key.partition("/")
    if kind != "versions" or not rest.endswith(".md"):
        raise ChainError(f"not a version key: {version_key!r}")
    return "manifests/" + rest.removesuffix(".md") + ".json"


def version_key(manifest: str) -> str:
    kind, _, rest = manifest.partition("/")
    if kind != "manifests" or not rest.endswith(".json"):
        raise ChainError(f"not a manifest key: {manifest!r}")
    return "versions/" + rest.removesuffix(".json") + ".md"


@dataclass(frozen=True)
class Link:
    """Where a new manifest attaches: the head's sequence and hash (0 and None for a new chain)."""

    sequence: int = 0
    previous: str | None = None


def manifest(
    *,
    document: str,
    version: str,
    text_sha256: str,
    snapshots: Iterable[tuple[str, str]],
    metadata: dict[str, str],
    after: Link,
    chained_at: str,
) -> dict[str, Any]:
    """The manifest of ``version`` (its key), attached after ``after``; ``snapshots``: (key, SHA-256) pairs."""
    return {
        "schema": SCHEMA,
        "document": document,
        "sequence": after.sequence + 1,
        "previous": after.previous,
        "version": version,
        "text_sha256": text_sha256,
        "snapshots": [{"key": key, "sha256": digest} for key, digest in snapshots],
        "fetched_at": metadata.get("fetched-at", ""),
        "source_url": metadata.get("source-url", ""),
        "requested_url": metadata.get("requested-url") or metadata.get("source-url", ""),
        "extractor_version": metadata.get("extractor-version", ""),
        "origin": metadata.get("origin", "fetch"),
        "chained_at": chained_at,
    }


def link_after(head: bytes | None) -> Link:
    """Where the next manifest attaches, given the head manifest's bytes (None: no chain yet)."""
    if head is None:
        return Link()
    return Link(int(read(head, "the chain's head")["sequence"]), sha256(head))


def read(data: bytes, name: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ChainError(f"{name} is not a manifest: {exc}") from None
    if not isinstance(value, dict) or value.get("schema") != SCHEMA:
        raise ChainError(f"{name} is not a {SCHEMA} manifest")
    return value


def check(segment: list[tuple[str, bytes]], *, starts_after: str | None = None) -> list[dict[str, Any]]:
    """The manifests of ``segment`` ((key, bytes), oldest first) if they form an unbroken chain; else ChainError.

    ``starts_after``: the hash the first manifest must name as previous (None: the first must be
    sequence 1 with no previous, unless the segment starts later, in which case it is taken as given).
    """
    read_back: list[dict[str, Any]] = []
    previous_hash, previous_sequence = starts_after, None
    for index, (key, data) in enumerate(segment):
        entry = read(data, key)
        if data != canonical(entry):
            raise ChainError(f"{key} is not in canonical form (it was rewritten)")
        if index == 0 and starts_after is None:
            if entry["sequence"] == 1 and entry["previous"] is not None:
                raise ChainError(f"{key} is the first manifest but names a previous one")
        elif entry["previous"] != previous_hash:
            raise ChainError(
                f"{key} does not follow {segment[index - 1][0] if index else 'the given head'}: it names "
                f"{str(entry['previous'])[:16]}… as previous, not {str(previous_hash)[:16]}… "
                "(a manifest was removed, inserted, reordered or edited)"
            )
        if previous_sequence is not None and entry["sequence"] != previous_sequence + 1:
            raise ChainError(f"{key} is number {entry['sequence']}, not {previous_sequence + 1}: the chain has a gap")
        if manifest_key(entry["version"]) != key:
            raise ChainError(f"{key} describes {entry['version']}, another version")
        previous_hash, previous_sequence = sha256(data), entry["sequence"]
        read_back.append(entry)
    return read_back
