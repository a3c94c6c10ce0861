"""Structural diff on real versions: blocks, alignment, moves, reflows, word-level changes and classes.

Policy texts: Open Terms Archive GenAI collection, ODC-By 1.0.
"""

from policywatch.analysis.blocks import parse, sentences, words
from policywatch.analysis.diff import compare
from policywatch.fetch.extraction.html import extract
from tests.conftest import corpus_page, history_version

CLAUDE = "claude-ai-privacy-policy"
CHATGPT = "chatgpt-privacy-policy"
MIDJOURNEY = "midjourney-terms-of-service"


def _claude(date: str) -> str:
    return extract(corpus_page(f"claude-ai/privacy-policy/{date}.html"), ["main"])


def _classes(comparison) -> set[tuple[str, str]]:
    return {(c.op, c.cls) for c in comparison.changes}


def test_both_markdown_dialects_parse_to_the_same_blocks():
    """Open Terms Archive's setext headings and our ATX headings give the same blocks and heading paths."""
    ota = parse(history_version(CLAUDE, 3))
    ours = parse(_claude("2025-08-29"))
    ota_headings = [b.path for b in ota if b.kind == "heading"][:6]
    our_headings = [b.path for b in ours if b.kind == "heading"][:6]
    assert ota_headings == our_headings
    assert ota_headings[1] == "Privacy Policy > 1. Collection of Personal Data"
    items = [b for b in ota if b.kind == "item"]
    assert items and all(not b.text.startswith("* ") or b.words for b in items)
    rows = [b for b in ours if b.kind == "row"]
    assert rows and not any(set(b.text) <= set("|- :") for b in rows)  # no table separator rows


def test_escaped_numbers_are_headings_not_list_items():
    """`12\\. Community Localization` underlined is a heading (escaped numbers are not lists)."""
    blocks = parse("Terms\n=====\n\n12\\. Community Localization[](#h_01J)\n-----------------\n\nText here.")
    assert [(b.kind, b.path) for b in blocks] == [
        ("heading", "Terms"),
        ("heading", "Terms > 12. Community Localization"),
        ("paragraph", "Terms > 12. Community Localization"),
    ]


def test_claude_training_change_quotes_before_and_after_under_its_heading():
    """The 2025-08-29 snapshot pair: the training paragraph is one modified block with word-level changes."""
    comparison = compare(_claude("2025-08-28"), _claude("2025-08-29"))
    training = next(c for c in comparison.substantive if "train our models, unless" in c.before)
    assert training.op == "modified"
    assert "We may use your Inputs and Outputs to train our models" in training.after
    assert training.heading.startswith("Privacy Policy > 2. Uses of Personal Data")
    delta = training.delta()
    assert {"op": "removed", "text": "will not"} in delta or any(
        s["op"] == "removed" and "not" in s["text"] for s in delta
    )
    assert any(s["op"] == "added" and "opt out" in s["text"] for s in delta)


def test_link_token_rotation_and_typography_are_not_changes():
    """Consecutive Claude versions that differ only by link tokens compare equal block by block."""
    comparison = compare(history_version(CLAUDE, 4), history_version(CLAUDE, 5))
    assert comparison.changes == []


def test_language_picker_label_is_page_chrome():
    """The 'English' language picker added on 2025-08-16 is a label, not a substantive change."""
    comparison = compare(history_version(CLAUDE, 1), history_version(CLAUDE, 2))
    assert _classes(comparison) == {("added", "label")}


def test_rendering_flip_is_link_and_formatting_only():
    """Midjourney's pages alternate heading anchors and image wrappers: link/formatting changes, no words."""
    comparison = compare(history_version(MIDJOURNEY, 10), history_version(MIDJOURNEY, 11))
    assert comparison.changes and not comparison.substantive
    assert {c.cls for c in comparison.changes} <= {"link", "formatting"}


def test_reflowed_list_item_is_one_formatting_change():
    """A list item split into an item and a paragraph, same words: one formatting change (Midjourney, 2024-01-05)."""
    comparison = compare(history_version(MIDJOURNEY, 3), history_version(MIDJOURNEY, 4))
    assert [(c.op, c.cls) for c in comparison.changes] == [("modified", "formatting")]


def test_table_cell_markup_change_is_formatting():
    """ChatGPT's table cells re-rendered from '• A <br>• B' to '* A<br> <br>* B' (2026-01-23): formatting."""
    comparison = compare(history_version(CHATGPT, 15), history_version(CHATGPT, 16))
    assert _classes(comparison) == {("modified", "formatting")}


def test_table_of_contents_is_navigation():
    """A table of contents added to ChatGPT's policy (2025-11-01) is navigation and a label, not substance."""
    comparison = compare(history_version(CHATGPT, 13), history_version(CHATGPT, 14))
    assert comparison.changes and not comparison.substantive
    assert {c.cls for c in comparison.changes} == {"label", "navigation"}


def test_effective_date_only_is_date_class():
    """Claude 2025-09-27: the effective date moved; those blocks are date changes."""
    comparison = compare(history_version(CLAUDE, 42), history_version(CLAUDE, 43))
    dated = [c for c in comparison.changes if c.cls == "date"]
    assert len(dated) == 2 and all("October 8, 2025" in c.after for c in dated)


def test_moved_block_is_a_move_not_delete_and_add():
    """A paragraph moved to another section is reported once, as moved, with where it came from."""
    old = "# P\n\n## A\n\nWe keep logs for security purposes only.\n\nFirst.\n\n## B\n\nSecond."
    new = "# P\n\n## A\n\nFirst.\n\n## B\n\nSecond.\n\nWe keep logs for security purposes only."
    comparison = compare(old, new)
    assert [(c.op, c.cls, c.moved_from, c.heading) for c in comparison.changes] == [
        ("moved", "moved", "P > A", "P > B")
    ]


def test_modified_added_removed_pairing_in_document_order():
    """Similar blocks pair as modified; others are added or removed, in document order."""
    old = "# P\n\n## Retention\n\nWe keep chat data for 30 days after deletion.\n\nGone soon, this clause is."
    new = "# P\n\n## Retention\n\nWe keep chat data for 90 days after deletion.\n\nA brand new clause about sharing."
    comparison = compare(old, new)
    assert [(c.op, c.heading) for c in comparison.changes] == [
        ("modified", "P > Retention"),
        ("removed", "P > Retention"),
        ("added", "P > Retention"),
    ]


def test_renumbered_heading_is_formatting():
    """A section renumbered because one was inserted above is not a reworded heading."""
    comparison = compare("# T\n\n## 3. Children\n\nText one here.", "# T\n\n## 4. Children\n\nText one here.")
    assert _classes(comparison) == {("modified", "formatting")}


def test_words_ignore_assistive_text_and_keyboard_renderings():
    """'(opens in a new window)' and Ctrl/⌘ renderings are not words of the policy."""
    assert words("[files(opens in a new window)](https://x)") == words("[files](https://y)")
    assert words("Press Ctrl+K to search") == words("Press \u2318K to search")


def test_sentences_keep_abbreviations_together():
    assert sentences("We may share data, e.g. with vendors. You can object.") == [
        "We may share data, e.g. with vendors.",
        "You can object.",
    ]
