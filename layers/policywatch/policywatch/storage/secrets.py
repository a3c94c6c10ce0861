"""Secrets Manager: the stack's generated secrets (the site's signing key, the billing system's key).

A warm function keeps a secret for five minutes: a rotated secret is in use everywhere within that.
"""

from __future__ import annotations

import threading
import time

from policywatch.storage import clients
from policywatch.storage.errors import adapter

KEEP_SECONDS = 300
_lock = threading.Lock()
_kept: dict[str, tuple[float, str]] = {}


@adapter
class SecretStore:
    def get(self, secret_id: str) -> str:
        """The secret's current string value."""
        with _lock:
            kept = _kept.get(secret_id)
        if kept and kept[0] > time.monotonic():
            return kept[1]
        value = clients.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
        with _lock:
            _kept[secret_id] = (time.monotonic() + KEEP_SECONDS, value)
        return str(value)


def forget() -> None:
    """Drop kept secrets (tests switch stacks)."""
    with _lock:
        _kept.clear()
