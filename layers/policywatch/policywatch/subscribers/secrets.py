"""Webhook signing secrets, as Standard Webhooks defines them: "whsec_" and base64 of 24 to 64 bytes.

A subscriber's endpoint keeps its secret (and, for a day after a rotation, the previous one);
the webhook channel signs with each (``subscribers.model.rotated``, ``Endpoint.signing_secrets``).
"""

from __future__ import annotations

import base64
import binascii
import secrets

from policywatch.core.errors import InputError

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
MIN_SECRET_BYTES = 24  # the Standard Webhooks bounds
MAX_SECRET_BYTES = 64


def new_secret() -> str:
    """A new signing secret: "whsec_" and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def validate_secret(secret: str) -> str:
    """``secret`` if it is a usable Standard Webhooks secret; ValueError naming the problem (never the secret)."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise InputError(f"webhook secret must start with {SECRET_PREFIX!r}")
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        # Unpadded base64 is accepted, as the standardwebhooks library accepts it.
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"webhook secret must be base64 after {SECRET_PREFIX!r}") from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise InputError(f"webhook secret must decode to {MIN_SECRET_BYTES}..{MAX_SECRET_BYTES} bytes, not {len(key)}")
    return secret
