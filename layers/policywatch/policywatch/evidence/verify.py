"""Verify an audit pack offline, with nothing but the pack and (optionally) a public key of one's own.

In order, stopping at the first thing that fails and naming it:

1. ``pack.json`` lists every file, and every listed file is there, with the listed SHA-256.
2. The manifests form an unbroken chain (``chain.check``): none removed, inserted, reordered or
   edited.
3. Every version and snapshot in the pack has the SHA-256 its manifest records, and every
   version is in the chain.
4. The checkpoint's signature verifies with the public key (the pack's own, or ``public_key``:
   an auditor should use the one the site publishes, not the one the pack brings).
5. The checkpoint signed the chain: its head for the document is a manifest of the pack's chain.
   Manifests after it are newer than the checkpoint and said to be so, not failed.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from policywatch.core.errors import InputError
from policywatch.evidence import chain
from policywatch.evidence.pack import INDEX, PACK_SCHEMA

MAX_PACK_FILES = 100_000


class VerifyError(InputError):
    """The pack does not verify; the message names the first thing that failed."""


@dataclass
class Verified:
    """What a pack that verifies holds, for the report."""

    subject: dict[str, Any]
    documents: dict[str, tuple[int, int]] = field(default_factory=dict)  # document -> (first, last) sequence
    versions: int = 0
    snapshots: int = 0
    changes: int = 0
    checkpoint_at: str = ""
    key_fingerprint: str = ""
    after_checkpoint: dict[str, int] = field(default_factory=dict)  # document -> manifests newer than it

    def lines(self) -> list[str]:
        out = [
            f"OK: {self.versions} version(s), {self.snapshots} snapshot(s), {self.changes} change record(s)",
        ]
        for document, (first, last) in sorted(self.documents.items()):
            out.append(f"  chain of {document}: manifests #{first} to #{last}, unbroken")
        out.append(f"  checkpoint of {self.checkpoint_at}, signature verified with key {self.key_fingerprint}")
        for document, newer in sorted(self.after_checkpoint.items()):
            out.append(f"  {document}: {newer} manifest(s) newer than the checkpoint (chained, not yet signed)")
        return out


def verify(data: bytes, public_key: str | None = None) -> Verified:
    """``Verified`` if the pack at ``data`` holds up; VerifyError naming the first failure otherwise."""
    files = _files(data)
    index = _index(files)
    by_role: dict[str, list[str]] = {}
    for entry in index["files"]:
        by_role.setdefault(entry["role"], []).append(entry["path"])
    result = Verified(subject=index.get("subject", {}))

    manifests = sorted(by_role.get("manifest", []))
    chained: dict[str, list[dict[str, Any]]] = {}
    for document in sorted({path.split("/", 1)[1].rsplit("/", 1)[0] for path in manifests}):
        segment = [(path, files[path]) for path in manifests if path.startswith(f"manifests/{document}/")]
        try:
            chained[document] = chain.check(segment)
        except chain.ChainError as exc:
            raise VerifyError(f"the chain of {document} is broken: {exc}") from None
        result.documents[document] = (chained[document][0]["sequence"], chained[document][-1]["sequence"])

    recorded = {entry["version"]: entry for entries in chained.values() for entry in entries}
    snapshot_hashes = {s["key"]: s["sha256"] for entry in recorded.values() for s in entry["snapshots"]}
    for path in sorted(by_role.get("version", [])):
        if path not in recorded:
            raise VerifyError(f"{path} is in the pack but in no manifest of its chain (it was never chained)")
        if chain.sha256(files[path]) != recorded[path]["text_sha256"]:
            raise VerifyError(
                f"{path} does not match its manifest: SHA-256 {chain.sha256(files[path])}, "
                f"the chain recorded {recorded[path]['text_sha256']}"
            )
        result.versions += 1
    for path in sorted(by_role.get("snapshot", [])):
        if path not in snapshot_hashes:
            raise VerifyError(f"{path} is in the pack but no manifest names it as a version's snapshot")
        if chain.sha256(files[path]) != snapshot_hashes[path]:
            raise VerifyError(f"{path} does not match the SHA-256 its manifest recorded ({snapshot_hashes[path]})")
        result.snapshots += 1
    result.changes = len(by_role.get("change", []))

    _checkpoint(files, by_role, chained, public_key, result)
    return result


def _files(data: bytes) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
        if len(names) > MAX_PACK_FILES:
            raise VerifyError(f"the pack holds {len(names)} files, more than {MAX_PACK_FILES}")
        return {name: archive.read(name) for name in names if not name.endswith("/")}
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise VerifyError(f"not a readable zip file: {exc}") from None


def _index(files: dict[str, bytes]) -> dict[str, Any]:
    if INDEX not in files:
        raise VerifyError(f"the pack has no {INDEX}: it is not a policywatch audit pack")
    try:
        index = json.loads(files[INDEX])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VerifyError(f"{INDEX} is not JSON: {exc}") from None
    if not isinstance(index, dict) or index.get("schema") != PACK_SCHEMA or not isinstance(index.get("files"), list):
        raise VerifyError(f"{INDEX} is not a {PACK_SCHEMA} index")
    listed = set()
    for entry in index["files"]:
        path = entry.get("path", "")
        listed.add(path)
        if path not in files:
            raise VerifyError(f"{INDEX} lists {path}, which the pack lacks")
        actual = chain.sha256(files[path])
        if actual != entry.get("sha256"):
            raise VerifyError(f"{path}: SHA-256 is {actual}, {INDEX} says {entry.get('sha256')} (the file was altered)")
    unlisted = sorted(set(files) - listed - {INDEX})
    if unlisted:
        raise VerifyError(f"the pack holds {unlisted[0]}, which {INDEX} does not list")
    return index


def _checkpoint(
    files: dict[str, bytes],
    by_role: dict[str, list[str]],
    chained: dict[str, list[dict[str, Any]]],
    public_key: str | None,
    result: Verified,
) -> None:
    from policywatch.evidence.checkpoint import CheckpointError
    from policywatch.evidence.checkpoint import verify as verify_signature

    payloads, signatures = by_role.get("checkpoint", []), by_role.get("signature", [])
    keys = by_role.get("public-key", [])
    if len(payloads) != 1 or len(signatures) != 1:
        raise VerifyError("the pack has no signed checkpoint (one checkpoint and one signature are expected)")
    key = public_key if public_key is not None else (files[keys[0]].decode("ascii", "replace") if keys else None)
    if not key:
        raise VerifyError("no public key: the pack brings none and none was given (--key)")
    payload = files[payloads[0]]
    try:
        verify_signature(payload, files[signatures[0]], key)
    except CheckpointError as exc:
        raise VerifyError(f"{payloads[0]}: {exc}") from None
    checkpoint = json.loads(payload)
    result.checkpoint_at = str(checkpoint.get("at", "?"))
    result.key_fingerprint = "SHA256:" + hashlib.sha256(key.encode()).hexdigest()[:16]
    heads = checkpoint.get("heads", {})
    for document, entries in chained.items():
        head = heads.get(document)
        if head is None:
            raise VerifyError(f"the checkpoint of {result.checkpoint_at} does not cover {document}")
        position = next(
            (i for i, e in enumerate(entries) if chain.manifest_key(e["version"]) == head["manifest"]), None
        )
        if position is None:
            if head.get("sequence", 0) < entries[0]["sequence"]:
                raise VerifyError(
                    f"the checkpoint of {result.checkpoint_at} signed {document} at manifest #{head.get('sequence')}, "
                    "before the pack's chain starts: make a new checkpoint and a new pack"
                )
            raise VerifyError(
                f"the checkpoint's head of {document} ({head['manifest']}) is not in the pack's chain: "
                "the chain was rewritten after it was signed, or the pack was cut short"
            )
        head_bytes = files[head["manifest"]]
        if chain.sha256(head_bytes) != head["sha256"]:
            raise VerifyError(f"{head['manifest']} is not the manifest the checkpoint signed (its SHA-256 differs)")
        newer = len(entries) - position - 1
        if newer:
            result.after_checkpoint[document] = newer
