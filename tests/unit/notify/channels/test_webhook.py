"""The webhook channel's pure parts: the signed headers and the Standard Webhooks payload.

Sending to real receivers: tests/integration/notify/test_webhook_channel.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from policywatch.core.errors import InternalError
from policywatch.notify.channels.webhook import payload, signed_headers
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
