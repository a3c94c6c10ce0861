"""A policy version as blocks: headings, paragraphs, list items, table rows, and their words.

Both Markdown dialects (ours and Open Terms Archive's), sentences, and the hostile lines of
issue 11: patterns that re-read a line from every position ("#" or space runs after a heading
marker, "[" or "<" floods, links between spaces) took seconds to hours on a few kilobytes. Each
rewritten pattern (of blocks and of text.plain) is checked against the pattern it replaced on
short inputs, where the old one is quick. The reader's text itself: tests/unit/text/test_plain.py.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policywatch.analysis import blocks
from policywatch.analysis.blocks import Block, parse, sentences
from policywatch.text import plain as plain_text
from policywatch.text.plain import plain
from tests.helpers.corpus import CLAUDE, history_version
from tests.helpers.corpus import claude_text as _claude

# The patterns as they were before issue 11: the same language, with backtracking.
OLD_ATX = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
OLD_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
OLD_ANCHOR_ONLY = re.compile(r"^(?:\s*\[[^\]]*\]\(#[^)]*\)\s*)+$")
OLD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
OLD_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)[^)]*\)")
OLD_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
OLD_ABBREVIATIONS = blocks._ABBREVIATIONS


def old_sentences(text: str) -> list[str]:
    out: list[str] = []
    for piece in blocks._SENTENCE_SPLIT.split(text.strip()):
        if out and OLD_ABBREVIATIONS.search(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        elif piece:
            out.append(piece)
    return out


def test_headings_items_rows_and_paths():
    text = "# Privacy\n\nIntro text.\n\n## 1. Data\n\n- We collect **names**.\n  - and emails\n\n| a | b |\n|---|:---:|\n| 1 | 2 |"
    found = [(b.kind, b.text, b.path, b.level) for b in parse(text)]
    assert found == [
        ("heading", "Privacy", "Privacy", 1),
        ("paragraph", "Intro text.", "Privacy", 0),
        ("heading", "1. Data", "Privacy > 1. Data", 2),
        ("item", "- We collect **names**.", "Privacy > 1. Data", 0),
        ("item", "- and emails", "Privacy > 1. Data", 1),
        ("row", "| a | b |", "Privacy > 1. Data", 0),
        ("row", "| 1 | 2 |", "Privacy > 1. Data", 0),
    ]


def test_setext_headings_and_closing_hashes():
    blocks_ = parse("Terms\n=====\n\nUse\n---\n\n### Rights ###\n\n---\n\nText.")
    assert [(b.kind, b.text, b.path) for b in blocks_] == [
        ("heading", "Terms", "Terms"),
        ("heading", "Use", "Terms > Use"),
        ("heading", "Rights", "Terms > Use > Rights"),
        ("paragraph", "Text.", "Terms > Use > Rights"),
    ]


def test_blocks_under_one_heading_share_its_path():
    """One string per heading, not one per block: a megabyte heading over 2,000 blocks is 1 MB."""
    found = parse("# " + "word " * 1_000 + "\n\n" + "\n\n".join(f"Clause {i}." for i in range(50)))
    assert len({id(b.path) for b in found}) == 1


def test_sentences_do_not_end_at_abbreviations():
    assert sentences("We use e.g. cookies. Anthropic Inc. is the controller. See Sec. 4 below. Done!") == [
        "We use e.g. cookies.",
        "Anthropic Inc. is the controller.",
        "See Sec. 4 below.",
        "Done!",
    ]


def test_labels_and_navigation():
    label, nav, sentence = parse("English\n\n- [Data](#data) [Rights](#rights)\n\nWe keep data.")
    assert label.is_label and not label.is_navigation
    assert nav.is_navigation and not nav.is_label
    assert not sentence.is_label


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "line",
    [
        pytest.param("# a" + "#" * 30_000 + "b", id="heading-then-hashes"),  # before: hours (cubic)
        pytest.param("# a" + " " * 30_000 + "b", id="heading-then-spaces"),  # before: 1.7 s for 1,000 (cubic)
        pytest.param(" " * 30_000 + "|x", id="row-after-spaces"),  # before: 14 s (quadratic)
        pytest.param("- " + "[a](#x)  " * 40 + "z", id="links-between-spaces"),  # before: exponential
    ],
)
def test_hostile_lines_parse_in_linear_time(line):
    found = parse(line)
    assert len(found) == 1 and not found[0].is_navigation


@pytest.mark.timeout(10)  # before: quadratic (each "Inc." re-read the sentence it grew)
def test_a_sentence_of_abbreviations_is_linear():
    assert len(sentences("Inc. A " * 40_000)) == 1


_LINE = st.lists(
    st.sampled_from(["#", "# ", "##", " ", "\t", "a", "b c", "|", "-", "---", ":", "=", "[", "]", "(", ")", "#x", "!"]),
    max_size=24,
).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_LINE)
def test_line_rules_match_the_patterns_they_replaced(line):
    old_atx, new_atx = OLD_ATX.match(line), blocks._ATX.match(line)
    assert bool(old_atx) == bool(new_atx)
    if old_atx:
        assert old_atx.group(2) == blocks._atx_title(new_atx.group(2))
    assert bool(OLD_TABLE_SEPARATOR.match(line)) == blocks._is_table_separator(line)
    assert bool(OLD_ANCHOR_ONLY.match(line)) == bool(blocks._ANCHOR_ONLY.match(line))


_MARKUP = st.lists(
    st.sampled_from(["[", "]", "(", ")", "![", "](", "<", ">", "<b>", "</a>", "a", " ", "x y", "#", ".", "Inc.", " A"]),
    max_size=30,
).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_MARKUP)
def test_markup_rules_match_the_patterns_they_replaced(text):
    assert plain_text._closed_sub(plain_text._IMAGE, plain_text._image_space, text, ")") == OLD_IMAGE.sub(" ", text)
    assert plain_text._closed_sub(plain_text._LINK, plain_text._link_text, text, ")") == OLD_LINK.sub(r"\1", text)
    assert plain_text._closed_sub(plain_text._HTML_TAG, " ", text, ">") == OLD_HTML_TAG.sub(" ", text)
    assert sentences(text) == old_sentences(text)


_DOCUMENT = st.lists(
    st.sampled_from(
        [
            "# Title",
            "## 2. Sharing ##",
            "Intro",
            "===",
            "---",
            "- item [x](#a)",
            "* item",
            "1\\. Item",
            "| a | b |",
            "|---|---|",
            "",
            "",
            "We share data with partners.",
            "  - nested",
            "***",
            "<b>bold</b> text",
            "![i](p.png)",
        ]
    ),  # fmt: skip
    max_size=40,
).map("\n".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_DOCUMENT)
def test_any_document_parses_into_well_formed_blocks(text):
    for block in parse(text):
        assert isinstance(block, Block) and block.kind in ("heading", "paragraph", "item", "row")
        assert block.text == block.text.strip() and "\n\n" not in block.text
        assert block.level >= 0 and isinstance(block.words, tuple)
        assert plain(block.text) == block.plain and "  " not in block.plain


# --- real versions: both Markdown dialects -----------------------------------------------------


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


def test_sentences_keep_abbreviations_together():
    assert sentences("We may share data, e.g. with vendors. You can object.") == [
        "We may share data, e.g. with vendors.",
        "You can object.",
    ]
