"""Checkpoints: the exact bytes signed, the heads found in a listing, and a signature checked or refused."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from policywatch.core.errors import InputError
from policywatch.evidence import checkpoint
from policywatch.evidence.checkpoint import CheckpointError, files, head, head_keys, payload, read, read_heads, verify

AT = datetime(2026, 12, 2, 15, 0, 0, 123456, tzinfo=UTC)
CLAUDE = "manifests/anthropic/privacy-policy/"
HEADS = {
    "anthropic/privacy-policy": {
        "manifest": CLAUDE + "2025-08-29T003202.000Z.json",
        "sha256": "ab" * 32,
        "sequence": 2,
    },
    "openai/terms": {
        "manifest": "manifests/openai/terms/2024-01-10T120000.000Z.json",
        "sha256": "cd" * 32,
        "sequence": 1,
    },
}


def key_pair(curve: ec.EllipticCurve | None = None) -> tuple[ec.EllipticCurvePrivateKey, str]:
    private = ec.generate_private_key(curve or ec.SECP256R1())
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, pem.decode()


def signed(private: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    return private.sign(data, ec.ECDSA(hashes.SHA256()))  # DER, as KMS returns it


# --- the payload ---------------------------------------------------------------------------------


def test_the_payload_is_canonical_json_of_the_heads_at_the_second():
    data = payload(HEADS, AT)
    assert data == (
        b'{"at":"2026-12-02T15:00:00Z","heads":{"anthropic/privacy-policy":{"manifest":"'
        + CLAUDE.encode()
        + b'2025-08-29T003202.000Z.json","sequence":2,"sha256":"'
        + b"ab" * 32
        + b'"},"openai/terms":{"manifest":"manifests/openai/terms/2024-01-10T120000.000Z.json","sequence":1,"sha256":"'
        + b"cd" * 32
        + b'"}},"schema":"policywatch.checkpoint/1"}'
    )
    assert json.loads(data) == {"schema": "policywatch.checkpoint/1", "at": "2026-12-02T15:00:00Z", "heads": HEADS}


def test_the_same_heads_in_another_order_are_the_same_bytes():
    assert payload(dict(reversed(HEADS.items())), AT) == payload(HEADS, AT)


def test_a_time_in_another_zone_is_written_in_utc():
    from datetime import timedelta, timezone

    paris = AT.astimezone(timezone(timedelta(hours=1)))
    assert json.loads(payload({}, paris))["at"] == "2026-12-02T15:00:00Z"


def test_no_chains_is_still_a_checkpoint():
    assert payload({}, AT) == b'{"at":"2026-12-02T15:00:00Z","heads":{},"schema":"policywatch.checkpoint/1"}'


# --- the heads -----------------------------------------------------------------------------------


def test_each_documents_head_is_its_newest_manifest():
    keys = [
        CLAUDE + "2025-08-29T003202.000Z.json",
        CLAUDE + "2024-02-01T000000.000Z.json",
        "manifests/openai/terms/2024-01-10T120000.000Z.json",
        CLAUDE + "2025-08-28T235959.999Z.json",
    ]
    assert head_keys(keys) == {
        "anthropic/privacy-policy": CLAUDE + "2025-08-29T003202.000Z.json",
        "openai/terms": "manifests/openai/terms/2024-01-10T120000.000Z.json",
    }


def test_keys_that_are_not_manifests_are_left_out():
    keys = ["manifests/", "manifests/anthropic/readme.txt", "manifests/a/b/c/d.json", "versions/a/b/x.md"]
    assert head_keys(keys) == {}


def test_a_head_records_the_hash_of_its_bytes_and_its_sequence():
    data = b'{"schema":"policywatch.manifest/1","sequence":68}'
    assert head("manifests/a/b/x.json", data) == {
        "manifest": "manifests/a/b/x.json",
        "sha256": hashlib.sha256(data).hexdigest(),
        "sequence": 68,
    }


@pytest.mark.parametrize("data", [b"\xff not json", b"[1, 2]", b'{"sequence": "68"}', b'{"sequence": true}', b"{}"])
def test_a_head_without_a_readable_sequence_is_still_signed_by_its_hash(data):
    found = head("manifests/a/b/x.json", data)
    assert found["sequence"] is None and found["sha256"] == hashlib.sha256(data).hexdigest()


def test_heads_are_read_once_each():
    read_keys = []

    def reader(key: str) -> bytes:
        read_keys.append(key)
        return json.dumps({"sequence": len(key)}).encode()

    keys = {f"p/d{n}": f"manifests/p/d{n}/2026-01-01T000000.000Z.json" for n in range(40)}
    heads = read_heads(keys, reader)
    assert sorted(read_keys) == sorted(keys.values())
    assert list(heads) == sorted(keys) and heads["p/d7"]["manifest"] == keys["p/d7"]


# --- what is published ---------------------------------------------------------------------------


def test_a_checkpoint_publishes_its_dated_pair_the_key_then_latest():
    published = files("2026-12-02T150000.000Z", b"{}", b"sig", "PEM\n")
    assert published == [
        ("checkpoints/2026-12-02T150000.000Z.json", b"{}"),
        ("checkpoints/2026-12-02T150000.000Z.sig", b"sig"),
        ("checkpoints/public-key.pem", b"PEM\n"),
        ("checkpoints/latest.json", b"{}"),
        ("checkpoints/latest.sig", b"sig"),
    ]
    assert [checkpoint.content_type(key) for key, _ in published] == [
        "application/json",
        "application/octet-stream",
        "application/x-pem-file",
        "application/json",
        "application/octet-stream",
    ]


# --- verification --------------------------------------------------------------------------------


def test_a_signature_by_the_key_verifies():
    private, pem = key_pair()
    data = payload(HEADS, AT)
    verify(data, signed(private, data), pem)
    verify(data, signed(private, data), pem.encode())  # the PEM file's bytes as read
    assert read(data)["heads"] == HEADS


def test_a_tampered_payload_does_not_verify():
    private, pem = key_pair()
    data = payload(HEADS, AT)
    signature = signed(private, data)
    tampered = data.replace(b'"sequence":2', b'"sequence":3')
    with pytest.raises(CheckpointError, match="^the checkpoint's signature does not verify with this public key$"):
        verify(tampered, signature, pem)


def test_another_keys_signature_does_not_verify():
    _, pem = key_pair()
    other, _ = key_pair()
    data = payload(HEADS, AT)
    with pytest.raises(CheckpointError, match="signature does not verify with this public key"):
        verify(data, signed(other, data), pem)


def test_a_signature_that_is_not_der_does_not_verify():
    _, pem = key_pair()
    with pytest.raises(CheckpointError, match="signature does not verify"):
        verify(payload(HEADS, AT), b"\x30\x02not a signature", pem)


@pytest.mark.parametrize(
    "pem",
    [
        "",
        "not a key",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        b"\x00\xff binary",
    ],
)
def test_a_malformed_public_key_is_named(pem):
    with pytest.raises(CheckpointError, match=r"^the public key is not a PEM public key"):
        verify(b"{}", b"sig", pem)


def test_a_key_of_another_kind_is_named():
    rsa_pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    _, p384 = key_pair(ec.SECP384R1())
    for pem in (rsa_pem, p384):
        with pytest.raises(CheckpointError, match="not an ECDSA P-256 key"):
            verify(b"{}", b"sig", pem)


def test_a_checkpoint_error_is_an_input_error():
    assert issubclass(CheckpointError, InputError)  # the CLI prints its one line; never a traceback


@pytest.mark.parametrize("data", [b"not json", b"[]", b'{"schema":"policywatch.manifest/1","heads":{}}'])
def test_what_is_not_a_checkpoint_is_named(data):
    with pytest.raises(CheckpointError, match="^the checkpoint is not "):
        read(data)
