"""moto's KMS signing a digest as KMS does (moto 5.2.5 ignores ``MessageType=DIGEST`` and hashes the digest again).

KMS signs ``MessageType=DIGEST`` as the signature of the message the digest is of; moto signs the
32 digest bytes as if they were the message, so its signature verifies against nothing we hold.
``storage.signing`` always sends a digest (KMS's RAW messages stop at 4,096 bytes), so the tests
and the benchmark run moto with this correction. MiniStack implements DIGEST as KMS does (the
e2e test signs there without it).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from unittest import mock

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from moto.kms.responses import KmsResponse
from moto.kms.utils import ECDSAPrivateKey

_DIGESTS = {"ECDSA_SHA_256": hashes.SHA256(), "ECDSA_SHA_384": hashes.SHA384(), "ECDSA_SHA_512": hashes.SHA512()}
_digest: contextvars.ContextVar[bool] = contextvars.ContextVar("digest", default=False)


@contextlib.contextmanager
def digests_signed_as_kms_does() -> Iterator[None]:
    original_response, original_sign = KmsResponse.sign, ECDSAPrivateKey.sign

    def response_sign(self: KmsResponse) -> str:
        token = _digest.set(self._get_param("MessageType") == "DIGEST")
        try:
            return original_response(self)
        finally:
            _digest.reset(token)

    def key_sign(self: ECDSAPrivateKey, message: bytes, signing_algorithm: str) -> bytes:
        if not _digest.get():
            return original_sign(self, message, signing_algorithm)
        algorithm = _DIGESTS[signing_algorithm]
        assert len(message) == algorithm.digest_size, "KMS refuses a digest of the wrong length"
        return self.private_key.sign(message, ec.ECDSA(utils.Prehashed(algorithm)))

    with mock.patch.object(KmsResponse, "sign", response_sign), mock.patch.object(ECDSAPrivateKey, "sign", key_sign):
        yield
