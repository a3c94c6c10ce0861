"""Signed checkpoints: the heads of every document's hash chain, signed together at one moment.

A checkpoint is the canonical JSON (``chain.canonical``: sorted keys, no spaces, UTF-8) of::

    {"schema": "policywatch.checkpoint/1", "at": "2026-12-02T15:00:00Z",
     "heads": {"anthropic/privacy-policy": {"manifest": "manifests/anthropic/privacy-policy/{stamp}.json",
                                            "sha256": "<hex of the head manifest's bytes>", "sequence": 68}, ...}}

signed with ECDSA P-256 over SHA-256 (a DER signature, as KMS returns it and ``openssl dgst
-sha256 -verify`` reads it). A head's ``sequence`` is its manifest's, or null when the manifest
does not say (the checkpoint signs what is there; ``chain.check`` judges it). Once a checkpoint
is published, no manifest it names can be edited, and no version before it removed or
reordered, without a chain failing to reach the signed head.

Pure: the archive is read and the payload signed by the caller (functions/evidence).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from policywatch.core import clock
from policywatch.core.errors import InputError
from policywatch.evidence.chain import canonical, sha256

SCHEMA = "policywatch.checkpoint/1"
MANIFESTS = "manifests/"
READERS = 16  # head manifests read at once (S3 GETs: latency-bound)

# Where checkpoints are published in the archive (the site serves them under /evidence/).
PREFIX = "checkpoints/"
PUBLIC_KEY = PREFIX + "public-key.pem"
LATEST = PREFIX + "latest"
CONTENT_TYPES = {".json": "application/json", ".sig": "application/octet-stream", ".pem": "application/x-pem-file"}


class CheckpointError(InputError):
    """A checkpoint that does not check out: the message says what failed."""


def head_keys(keys: Iterable[str]) -> dict[str, str]:
    """Each document ("platform/document") -> its newest manifest key, from a listing of ``manifests/``.

    Stamps are fixed width and sort chronologically, so the greatest key is the head. Keys of
    any other shape are not manifests and are left out.
    """
    heads: dict[str, str] = {}
    for key in keys:
        parts = key.split("/")
        if len(parts) != 4 or parts[0] != MANIFESTS.rstrip("/") or not parts[3].endswith(".json"):
            continue
        document = f"{parts[1]}/{parts[2]}"
        if key > heads.get(document, ""):
            heads[document] = key
    return heads


def head(key: str, data: bytes) -> dict[str, Any]:
    """What a checkpoint records of one head: its key, the SHA-256 of its bytes, its sequence number."""
    try:
        sequence = json.loads(data).get("sequence")
    except (ValueError, AttributeError):  # not JSON, or not an object: its hash is still signed
        sequence = None
    return {
        "manifest": key,
        "sha256": sha256(data),
        "sequence": sequence if isinstance(sequence, int) and not isinstance(sequence, bool) else None,
    }


def read_heads(keys: dict[str, str], read: Callable[[str], bytes]) -> dict[str, dict[str, Any]]:
    """``head`` of each document's head manifest, read with ``read(key)`` (READERS at a time)."""
    documents = sorted(keys)
    with ThreadPoolExecutor(max_workers=READERS) as pool:
        bodies = list(pool.map(lambda document: read(keys[document]), documents))
    return {document: head(keys[document], body) for document, body in zip(documents, bodies, strict=True)}


def payload(heads: dict[str, dict[str, Any]], at: datetime) -> bytes:
    """The exact bytes signed and published: the checkpoint of ``heads`` at ``at`` (UTC, to the second)."""
    return canonical({"schema": SCHEMA, "at": clock.iso(at), "heads": heads})


def files(stamp: str, payload_bytes: bytes, signature_der: bytes, public_key_pem: str) -> list[tuple[str, bytes]]:
    """The objects one checkpoint publishes, (key, bytes) in the order written: the dated pair first,
    the public key, then ``latest`` (a reader between the last two writes gets a pair that does not
    verify: reading again, or the dated pair, answers)."""
    return [
        (f"{PREFIX}{stamp}.json", payload_bytes),
        (f"{PREFIX}{stamp}.sig", signature_der),
        (PUBLIC_KEY, public_key_pem.encode()),
        (f"{LATEST}.json", payload_bytes),
        (f"{LATEST}.sig", signature_der),
    ]


def content_type(key: str) -> str:
    return CONTENT_TYPES["." + key.rsplit(".", 1)[-1]]


def verify(payload_bytes: bytes, signature_der: bytes, public_key_pem: str | bytes) -> None:
    """Nothing if ``signature_der`` is the public key's ECDSA P-256 / SHA-256 signature of ``payload_bytes``;
    else CheckpointError saying what failed."""
    # Imported here: the checkpoint function only builds payloads (KMS signs them), and its layers
    # do not carry cryptography; whoever verifies (the CLI, an auditor's script) has it.
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = public_key_pem.encode() if isinstance(public_key_pem, str) else public_key_pem
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm):
        raise CheckpointError("the public key is not a PEM public key (-----BEGIN PUBLIC KEY-----)") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise CheckpointError("the public key is not an ECDSA P-256 key, which checkpoints are signed with")
    try:
        key.verify(signature_der, payload_bytes, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise CheckpointError("the checkpoint's signature does not verify with this public key") from None


def read(payload_bytes: bytes) -> dict[str, Any]:
    """A checkpoint's content (after ``verify``), or CheckpointError if it is not one."""
    try:
        value = json.loads(payload_bytes)
    except ValueError:
        raise CheckpointError("the checkpoint is not JSON") from None
    if not isinstance(value, dict) or value.get("schema") != SCHEMA or not isinstance(value.get("heads"), dict):
        raise CheckpointError(f"the checkpoint is not a {SCHEMA} checkpoint")
    return value
