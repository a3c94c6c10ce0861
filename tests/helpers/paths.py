"""Where things are: the project's root and the sample events beside it (events/*.json)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"  # one sample event per handler, for `sam local invoke` and the tests
