"""A checkpoint signed as the checkpoint function signs it, with a local P-256 key in place of KMS's."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from policywatch.core import clock
from policywatch.evidence import checkpoint
from policywatch.storage.archive import Archive


def sign_checkpoint(archive: Archive, key: ec.EllipticCurvePrivateKey) -> None:
    """What the checkpoint function does, with a local key in place of KMS."""
    heads = checkpoint.read_heads(checkpoint.head_keys(archive.keys("manifests/")), archive.get)
    data = checkpoint.payload(heads, clock.now())
    signature = key.sign(data, ec.ECDSA(hashes.SHA256()))
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    for path, body in checkpoint.files("2026-12-02T150000.000Z", data, signature, pem.decode()):
        archive.put(path, body, checkpoint.content_type(path), {})
