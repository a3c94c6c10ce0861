"""The recorded corpus beside the project (../shared/corpus): raw pages, their index, and histories.

Open Terms Archive GenAI collection, ODC-By 1.0.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from policywatch.fetch.extraction.html import extract
from tests.helpers.paths import ROOT

CORPUS = ROOT.parent / "shared" / "corpus"
HISTORIES = CORPUS / "histories"


def corpus_page(relative: str) -> bytes:
    """A raw page from ../shared/corpus/snapshots (Open Terms Archive GenAI collection, ODC-By 1.0)."""
    path = CORPUS / "snapshots" / relative
    if not path.exists():
        pytest.fail(f"corpus page {path} is missing: the tests need ../shared beside the project")
    return path.read_bytes()


def snapshot_index() -> list[dict[str, Any]]:
    """The corpus pages' index (../shared/corpus/snapshots/index.json): file, service, document type, ..."""
    path = CORPUS / "snapshots" / "index.json"
    if not path.exists():
        pytest.fail(f"corpus index {path} is missing: the tests need ../shared beside the project")
    return json.loads(path.read_text())


def history_version(history: str, seq: int) -> str:
    """Version ``seq`` of a recorded history in ../shared/corpus/histories (Open Terms Archive, ODC-By 1.0)."""
    path = HISTORIES / history / "versions" / f"{seq:04d}.md"
    if not path.exists():
        pytest.fail(f"corpus history version {path} is missing: the tests need ../shared beside the project")
    return path.read_text()


def claude_text(date: str) -> str:
    """The Claude.ai privacy policy of ``date`` from the corpus, extracted as the fetch stage does."""
    return extract(corpus_page(f"claude-ai/privacy-policy/{date}.html"), ["main"])


# The recorded histories the tests read most (folders of ../shared/corpus/histories).
CLAUDE = "claude-ai-privacy-policy"
CHATGPT = "chatgpt-privacy-policy"
MIDJOURNEY = "midjourney-terms-of-service"
