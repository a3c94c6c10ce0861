"""Fixtures of the unit tests."""

from __future__ import annotations

import pytest

from tests.helpers.messages import sample_change


@pytest.fixture
def change() -> dict:
    """The sample notify event's change (events/notify.json), fresh for each test to change at will."""
    return sample_change()
