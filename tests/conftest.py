"""Shared test setup: handler folders importable, corpus paths, fake AWS credentials."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# What template.yaml gives every function (Powertools reads them when handlers are imported).
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "policywatch")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "policywatch")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
for folder in ("functions/fetch", "functions/diff", "functions/notify", "functions/web", "layers/policywatch", "."):
    path = str(ROOT / folder)
    if path not in sys.path:
        sys.path.insert(0, path)


def corpus_page(relative: str) -> bytes:
    """A raw page from ../shared/corpus/snapshots (Open Terms Archive GenAI collection, ODC-By 1.0)."""
    path = CORPUS / "snapshots" / relative
    if not path.exists():
        pytest.fail(f"corpus page {path} is missing: the tests need ../shared beside the project")
    return path.read_bytes()


HISTORIES = CORPUS / "histories"


def history_version(history: str, seq: int) -> str:
    """Version ``seq`` of a recorded history in ../shared/corpus/histories (Open Terms Archive, ODC-By 1.0)."""
    path = HISTORIES / history / "versions" / f"{seq:04d}.md"
    if not path.exists():
        pytest.fail(f"corpus history version {path} is missing: the tests need ../shared beside the project")
    return path.read_text()
