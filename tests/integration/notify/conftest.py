"""Fixtures of the notify stage's integration tests."""

from __future__ import annotations

import pytest

from tests.helpers.webhooks import webhook_receiver


@pytest.fixture
def receiver(monkeypatch):
    """A webhook receiver on loopback, allowlisted for the webhook channel (WEBHOOK_HTTP_ALLOWLIST)."""
    with webhook_receiver(monkeypatch) as server:
        yield server
