"""What the message tests share: the links alerts carry and the sample change they render."""

from __future__ import annotations

import json

from policywatch.core.links import Links
from tests.helpers.paths import EVENTS

LINKS = Links("https://policywatch.example")
UNSUBSCRIBE = LINKS.unsubscribe("sub-1", "tok-1")


def sample_change() -> dict:
    """The change the sample notify event carries (events/notify.json): Claude.ai's 2025-08-29 training change."""
    return json.loads(json.loads((EVENTS / "notify.json").read_text())["Records"][0]["body"])
