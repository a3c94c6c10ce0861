"""Webhook signing secrets: made at random, validated in the ``whsec_`` form standardwebhooks reads, never echoed."""

from __future__ import annotations

import base64

import pytest
from standardwebhooks import Webhook

from policywatch.notify.channels.webhook import payload, signed_headers
from policywatch.subscribers.secrets import new_secret, validate_secret


def test_a_new_secret_is_32_random_bytes_that_standardwebhooks_accepts():
    secret = new_secret()
    assert secret.startswith("whsec_") and validate_secret(secret) == secret
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert new_secret() != secret

    body = payload({"detected_at": "2026-01-02T03:04:05Z", "platform": "openai"})
    headers = signed_headers(secret, "msg_1", body)
    assert Webhook(secret).verify(body, headers)["data"]["platform"] == "openai"


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ("c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", "must start with 'whsec_'"),
        ("whsec_not base64!", "must be base64"),
        ("whsec_" + base64.b64encode(b"x" * 16).decode(), "24..64 bytes, not 16"),
        ("whsec_" + base64.b64encode(b"x" * 65).decode(), "not 65"),
        ("whsec_", "not 0"),
    ],
)
def test_a_bad_secret_is_refused_without_echoing_it(secret, problem):
    with pytest.raises(ValueError, match=problem) as refused:
        validate_secret(secret)
    if len(secret) > len("whsec_"):
        assert secret.removeprefix("whsec_") not in str(refused.value)


def test_an_unpadded_secret_is_accepted_as_standardwebhooks_accepts_it():
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode().rstrip("=")
    assert validate_secret(secret) == secret
    Webhook(secret)
