"""The webhook channel's pure parts: the signed headers, the Standard Webhooks payload, the test event.

Sending to real receivers: tests/integration/notify/test_webhook_channel.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from policywatch.core.errors import InternalError
from policywatch.notify.channels.webhook import payload, sample_event, signed_headers
from policywatch.subscribers.secrets import new_secret


def test_signed_headers_carry_the_id_and_a_whole_second_timestamp():
    moment = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    headers = signed_headers(new_secret(), "msg_1", b"{}", now=moment)
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == str(int(moment.timestamp()))
    assert headers["webhook-signature"].startswith("v1,")


def test_the_payload_is_the_standard_webhooks_shape_in_compact_utf8():
    change = {"detected_at": "2026-01-02T03:04:05Z", "platform": "mistral", "summary": "Données – conservées"}
    body = payload(change)
    assert json.loads(body) == {"type": "policy.changed", "timestamp": "2026-01-02T03:04:05Z", "data": change}
    assert b", " not in body and b'": ' not in body
    assert "Données – conservées".encode() in body


def test_a_change_without_detected_at_has_no_payload():
    with pytest.raises(InternalError, match="detected_at"):
        payload({"platform": "openai"})


def test_several_secrets_give_one_signature_each_and_either_secret_verifies():
    old, new, stranger = new_secret(), new_secret(), new_secret()
    body = payload({"detected_at": "2026-01-02T03:04:05Z", "platform": "openai"})
    headers = signed_headers((new, old), "msg_1", body)
    signatures = headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
    assert signatures[0] == signed_headers(new, "msg_1", body, now=_when(headers))["webhook-signature"]
    for secret in (old, new):
        assert Webhook(secret).verify(body, headers)["data"]["platform"] == "openai"
    with pytest.raises(WebhookVerificationError):
        Webhook(stranger).verify(body, headers)


def test_one_secret_in_a_sequence_signs_as_a_single_secret():
    secret = new_secret()
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert signed_headers([secret], "msg_1", b"{}", now=moment) == signed_headers(secret, "msg_1", b"{}", now=moment)


def test_the_test_event_looks_like_a_change_and_says_it_is_a_test():
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    event = json.loads(sample_event(moment))
    assert event["type"] == "policywatch.test" and event["timestamp"] == "2026-01-02T03:04:05Z"
    data = event["data"]
    assert data["test"] is True and "test event" in data["summary"] and "no policy changed" in data["summary"]
    assert data["detected_at"] == event["timestamp"] and len(data["change_id"]) == 24
    assert {"platform", "document", "document_type", "severity", "kind", "categories"} <= data.keys()


def _when(headers: dict[str, str]) -> datetime:
    return datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
