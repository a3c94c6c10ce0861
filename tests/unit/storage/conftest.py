"""Fixtures of the storage adapters' unit tests: AWS as moto plays it, nothing created."""

from __future__ import annotations

import pytest
from moto import mock_aws

from policywatch.storage import clients
from tests.helpers.aws import REGION


@pytest.fixture
def moto(monkeypatch):
    """moto in place of AWS, with fake credentials; the adapters' cached clients forgotten before and after."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        clients.reset()
        yield
    clients.reset()
