"""Fixtures of the fetch stage's integration tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def local_site(httpserver, monkeypatch):
    """The local test server is on FETCH_ALLOWLIST, as the demo site is on the local stack."""
    monkeypatch.setenv("FETCH_ALLOWLIST", f"{httpserver.host}:{httpserver.port}")
