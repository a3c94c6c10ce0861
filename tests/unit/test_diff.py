"""Block diff and change records on real versions."""

from datetime import UTC, datetime

from policywatch.archive import VersionRef
from policywatch.changes import build_record, change_id
from policywatch.diff import compare, split_blocks, summarise
from policywatch.extract import extract
from tests.conftest import corpus_page


def _claude(date: str) -> str:
    return extract(corpus_page(f"claude-ai/privacy-policy/{date}.html"), ["main"])


def test_claude_training_change_is_substantive_and_quotes_before_and_after():
    comparison = compare(_claude("2025-08-28"), _claude("2025-08-29"))
    assert comparison.kind == "substantive"
    befores = " ".join(b.before for b in comparison.blocks)
    afters = " ".join(b.after for b in comparison.blocks)
    assert "We will not use your Inputs or Outputs to train our models" in befores
    assert "We may use your Inputs and Outputs to train our models" in afters
    assert all(b.heading for b in comparison.blocks)


def test_typography_only_change_is_cosmetic_and_identical_text_is_none():
    text = "# Terms\n\nWe don\u2019t sell data.\n\nSecond paragraph."
    assert compare(text, text).kind == "none"
    assert compare(text, text.replace("\u2019", "'")).kind == "cosmetic"


def test_blocks_added_removed_and_modified_under_their_heading():
    old = "# P\n\n## Retention\n\nWe keep data 30 days.\n\nGone soon."
    new = "# P\n\n## Retention\n\nWe keep data 90 days.\n\nBrand new clause."
    comparison = compare(old, new)
    assert [(b.op, b.heading) for b in comparison.blocks] == [
        ("modified", "P > Retention"),
        ("modified", "P > Retention"),
    ]
    grown = compare(old, new + "\n\nAnother.")
    assert grown.counts == {"added": 1, "removed": 0, "modified": 2}
    assert summarise("Privacy Policy", grown) == "Privacy Policy: 2 modified, 1 added passages (in Retention)."


def test_split_blocks():
    assert split_blocks("a\n\n\n\nb\n") == ["a", "b"]


def _ref(sha: str, stamp: str) -> VersionRef:
    return VersionRef(
        f"versions/anthropic/privacy-policy/{stamp}.md", "anthropic", "privacy-policy", stamp, sha, "https://x"
    )


def test_record_is_stable_and_flaps_do_not_alert():
    now = datetime(2025, 8, 29, tzinfo=UTC)
    args = dict(document_type="Privacy Policy", recent_fingerprints=[], fingerprint="f2", now=now)
    record = build_record(_ref("a", "s1"), _ref("b", "s2"), "# P\n\nOld words.", "# P\n\nNew words.", **args)
    again = build_record(_ref("a", "s1"), _ref("b", "s2"), "# P\n\nOld words.", "# P\n\nNew words.", **args)
    assert record == again
    assert record["change_id"] == change_id("a", "b") != change_id("b", "a")
    assert record["alert"] is True and record["kind"] == "substantive"
    assert record["platform_name"] == "Anthropic (Claude)"
    flap = build_record(
        _ref("b", "s2"),
        _ref("a", "s3"),
        "# P\n\nNew words.",
        "# P\n\nOld words.",
        **{**args, "recent_fingerprints": ["f2"]},
    )
    assert flap["kind"] == "flap" and flap["alert"] is False
