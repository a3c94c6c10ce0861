"""The checkpoints' signing key in KMS: an ECC_NIST_P256 key whose private half never leaves KMS.

KMS signs at most 4,096 bytes of message (``MessageType=RAW``); a checkpoint of the catalog's 150
documents is about 25 KB. So the message's SHA-256 is signed (``MessageType=DIGEST``), which gives
the same ECDSA_SHA_256 signature of the message that RAW would: DER, as ``openssl dgst -sha256
-verify`` and ``cryptography`` read it.
"""

from __future__ import annotations

import base64
import hashlib
import textwrap

from policywatch.storage import clients as aws
from policywatch.storage.errors import adapter

ALGORITHM = "ECDSA_SHA_256"


@adapter
class Signer:
    """Sign with, and read the public half of, one KMS key."""

    def __init__(self, key_id: str) -> None:
        self.key_id = key_id
        self.kms = aws.client("kms")

    def sign(self, message: bytes) -> bytes:
        """The DER-encoded ECDSA P-256 / SHA-256 signature of ``message``."""
        digest = hashlib.sha256(message).digest()
        answer = self.kms.sign(KeyId=self.key_id, Message=digest, MessageType="DIGEST", SigningAlgorithm=ALGORITHM)
        return bytes(answer["Signature"])

    def public_key_pem(self) -> str:
        """The public key as PEM (SubjectPublicKeyInfo: ``-----BEGIN PUBLIC KEY-----``)."""
        der = bytes(self.kms.get_public_key(KeyId=self.key_id)["PublicKey"])  # DER SubjectPublicKeyInfo
        lines = textwrap.wrap(base64.b64encode(der).decode(), 64)
        return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"
