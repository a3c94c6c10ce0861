"""Properties of the structural diff on arbitrary Markdown-ish versions (hypothesis).

Whatever the two versions, the comparison finishes and is well formed: every block of the old
version is unchanged or on the old side of exactly one change (removed, modified, moved, or
part of a run shown as one change), every block of the new version likewise, and unchanged
blocks are equal on both sides. The same holds with budgets so small that every coarse step
runs (alignment on unique blocks, pairing among neighbours, word-level changes by their ends,
runs past the detailed-change cap).
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policywatch.analysis import diff
from policywatch.analysis.assess import analyse
from policywatch.analysis.blocks import parse
from policywatch.analysis.diff import Budget, compare
from policywatch.text.matching import Allowance

OPS = {"added", "removed", "modified", "moved"}
CLASSES = {"text", "formatting", "link", "label", "navigation", "date", "moved"}

_LINES = [
    "# Privacy Policy",
    "## 2. Sharing",
    "We share data with partners.",
    "We never share data.",
    "We may share your data with advertisers and partners.",
    "Effective March 3, 2025.",
    "Effective April 1, 2026.",
    "- [Sharing](#sharing)",
    "- We keep data for 30 days.",
    "- We keep data for 90 days.",
    "* We keep data for **30** days.",
    "| Data | Purpose |",
    "|---|---|",
    "English",
    "See [our terms](https://x.test/terms?utm_source=a).",
    "See [our terms](https://x.test/terms-2).",
    "Yes.",
    "Yes.",
    "We train our models on your content unless you opt out.",
]
_BLOCK = st.sampled_from(_LINES)
_DOCUMENT = st.lists(_BLOCK, max_size=25).map("\n\n".join)


def _sides(change: diff.BlockChange) -> tuple[list[str], list[str]]:
    """The texts of the old and new blocks a change stands for (a joined run splits back)."""
    old = change.old.text.split("\n\n") if change.old else []
    new = change.new.text.split("\n\n") if change.new else []
    return old, new


def _well_formed(old_text: str, new_text: str, comparison: diff.Comparison) -> None:
    old_blocks, new_blocks = parse(old_text), parse(new_text)
    assert [b.text for b in comparison.old_blocks] == [b.text for b in old_blocks]
    changed_old: Counter[str] = Counter()
    changed_new: Counter[str] = Counter()
    for change in comparison.changes:
        assert change.op in OPS and change.cls in CLASSES
        assert (change.old is None) == (change.op == "added") and (change.new is None) == (change.op == "removed")
        old, new = _sides(change)
        changed_old.update(old)
        changed_new.update(new)
        if change.op == "moved":
            assert change.old.words == change.new.words
        if change.cls == "formatting" and change.op == "modified":
            assert [w for t in old for w in parse(t)[0].words] == [w for t in new for w in parse(t)[0].words]
    # Every block is in at most one change; the rest are unchanged, and equal on both sides.
    old_all, new_all = Counter(b.text for b in old_blocks), Counter(b.text for b in new_blocks)
    assert not changed_old - old_all and not changed_new - new_all
    unchanged_old, unchanged_new = old_all - changed_old, new_all - changed_new
    norms = {b.text: b.norm for b in old_blocks + new_blocks}
    assert Counter(norms[t] for t in unchanged_old.elements()) == Counter(norms[t] for t in unchanged_new.elements())
    assert [c.at for c in comparison.changes] == sorted(c.at for c in comparison.changes)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_DOCUMENT, _DOCUMENT)
def test_any_two_versions_compare_into_a_well_formed_comparison(old_text, new_text):
    comparison = compare(old_text, new_text)
    _well_formed(old_text, new_text, comparison)
    assert not comparison.limits  # small versions never reach a budget
    for change in comparison.changes:
        for run in change.delta():
            assert run["op"] in ("equal", "removed", "added") and run["text"]


@pytest.fixture
def tiny_budgets(monkeypatch):
    monkeypatch.setattr(diff, "MAX_DETAILED_CHANGES", 3)
    return lambda: Budget(align=Allowance(30), pair=Allowance(20), delta=Allowance(15))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(_DOCUMENT, _DOCUMENT)
def test_the_coarse_steps_are_well_formed_too(tiny_budgets, old_text, new_text):
    comparison = compare(old_text, new_text, budget=tiny_budgets())
    _well_formed(old_text, new_text, comparison)
    for change in comparison.changes:
        change.delta()
    assert {entry["step"] for entry in comparison.limits} <= {"alignment", "pairing", "blocks", "delta"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_DOCUMENT, _DOCUMENT)
def test_the_analysis_of_any_change_is_a_valid_record_part(old_text, new_text):
    record = analyse(old_text, new_text).to_dict()
    assert record["alert"] == (record["kind"] == "substantive")
    assert record["alert"] == any(b["class"] == "text" for b in record["blocks"])
    assert 0 < len(record["summary"]) <= 600
