"""Structural diff on real versions: blocks, alignment, moves, reflows, word-level changes and classes.

Past its budgets each step is done coarsely and says so. And whatever the two versions
(hypothesis), the comparison finishes and is well formed: every block of the old version is
unchanged or on the old side of exactly one change (removed, modified, moved, or part of a run
shown as one change), every block of the new version likewise, and unchanged blocks are equal on
both sides. The same holds with budgets so small that every coarse step runs (alignment on unique
blocks, pairing among neighbours, word-level changes by their ends, runs past the detailed-change cap).

Policy texts: Open Terms Archive GenAI collection, ODC-By 1.0.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings

from policywatch.analysis import diff
from policywatch.analysis.blocks import parse
from policywatch.analysis.diff import DiffBudget, compare
from policywatch.text.matching import Allowance
from tests.helpers.budgets import VOCABULARY as _VOCABULARY
from tests.helpers.budgets import document, paragraph
from tests.helpers.corpus import CHATGPT, CLAUDE, MIDJOURNEY, history_version
from tests.helpers.corpus import claude_text as _claude
from tests.helpers.strategies import policy_versions


def _classes(comparison) -> set[tuple[str, str]]:
    return {(c.op, c.cls) for c in comparison.changes}


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


# --- budgets (issue 11): past one, a step is coarse and says so ------------------------------------


def test_the_alignment_past_its_budget_is_coarse_and_says_so():
    old = document([paragraph(i) for i in range(50)])
    new = document([paragraph(i) for i in range(25)] + ["A new clause."] + [paragraph(i) for i in range(25, 50)])
    exact = diff.compare(old, new)
    coarse = diff.compare(old, new, budget=diff.DiffBudget(align=Allowance(10)))
    assert (
        [(c.op, c.after) for c in coarse.changes]
        == [(c.op, c.after) for c in exact.changes]
        == [("added", "A new clause.")]
    )
    assert [entry["step"] for entry in coarse.limits] == ["alignment"] and not exact.limits


def test_more_changed_blocks_than_compared_one_by_one(monkeypatch):
    monkeypatch.setattr(diff, "MAX_DETAILED_CHANGES", 2)
    old = "\n\n".join(["Same one.", "Old a.", "Same two.", "Old b.", "Same three.", "Old c words.", "Same four."])
    new = "\n\n".join(["Same one.", "New a.", "Same two.", "New b.", "Same three.", "Old c, words!", "Same four."])
    comparison = diff.compare(old, new)
    assert [(c.op, c.cls) for c in comparison.changes] == [
        ("modified", "text"), ("modified", "text"), ("modified", "formatting")
    ]  # fmt: skip
    assert [entry["step"] for entry in comparison.limits] == ["blocks"]


@pytest.mark.timeout(30)
def test_a_long_block_where_only_a_date_changed_is_a_date_change():
    """Past 100,000 characters the dates are compared around the changed stretch only: same answer."""
    body = " ".join(_VOCABULARY[(k * 3) % len(_VOCABULARY)] for k in range(40_000))
    old = f"{body} Effective January 5, 2025. {body}"
    assert len(old) > diff.UNDATED_FULL_CHARS
    dated = diff.compare(old, old.replace("January 5, 2025", "March 1, 2026"))
    reworded = diff.compare(old, old.replace("Effective January 5, 2025.", "Effective soon."))
    assert [(c.op, c.cls) for c in dated.changes] == [("modified", "date")]
    assert [(c.op, c.cls) for c in reworded.changes] == [("modified", "text")]


# --- properties (hypothesis): any two versions compare into a well-formed comparison -------------


OPS = {"added", "removed", "modified", "moved"}
CLASSES = {"text", "formatting", "link", "label", "navigation", "date", "moved", "chrome", "wording", "unbundled"}


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
@given(policy_versions, policy_versions)
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
    return lambda: DiffBudget(align=Allowance(30), pair=Allowance(20), delta=Allowance(15))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(policy_versions, policy_versions)
def test_the_coarse_steps_are_well_formed_too(tiny_budgets, old_text, new_text):
    comparison = compare(old_text, new_text, budget=tiny_budgets())
    _well_formed(old_text, new_text, comparison)
    for change in comparison.changes:
        change.delta()
    assert {entry["step"] for entry in comparison.limits} <= {"alignment", "pairing", "blocks", "delta"}


def test_documents_a_page_stops_carrying_are_not_a_change_of_the_one_watched():
    """Issue 13 (Mistral's DPA page, 2025: the Terms of Use it also carried went, the DPA stayed
    word for word). A document added to a page is still text: what it says is new on the page."""
    dpa = "Data Processing Agreement\n=========================\n\n## 1. Scope\n\nWe process Customer Data only on instructions."
    terms = "Terms of Use\n============\n\n## 1. Training\n\nWe will not train our models on your inputs.\n\n## 2. Law\n\nFrench law applies."
    dropped = compare(terms + "\n\n" + dpa, dpa)
    assert dropped.changes and not dropped.substantive
    assert {c.cls for c in dropped.changes} == {"unbundled"}
    added = compare(dpa, terms + "\n\n" + dpa)
    assert added.substantive  # the reverse is new text on the page
    reworded = compare(terms + "\n\n" + dpa, dpa.replace("only on", "beyond"))
    assert reworded.substantive  # the document kept changed: that is a change


def test_a_section_under_a_level_one_heading_removed_is_still_a_change():
    """Pages that use level-1 headings for their sections: a section removed is text, not a document unbundled."""
    sections = ["# Privacy Policy\n\nWe respect your privacy.", "# Sale of data\n\nWe do not sell your data.",
                "# Contact\n\nWrite to us."]  # fmt: skip
    comparison = compare("\n\n".join(sections), "\n\n".join([sections[0], sections[2]]))
    assert comparison.substantive and "unbundled" not in {c.cls for c in comparison.changes}


def _substantive(old: str, new: str) -> list[str]:
    return [c.cls for c in compare(old, new).substantive]


def test_short_lines_above_the_first_passage_are_the_page_title_not_text():
    """Issue 13 (Le Chat's and Mistral's imprints: "* Legal", "Legal notice." captured, then not)."""
    body = "## Editor\n\nThe publisher of this website is Mistral AI, a simplified joint stock company."
    assert not _substantive("*   Legal\n\nLegal notice.\n=============\n\nLegal notice.\n\n" + body, body)
    assert not _substantive(body, "Legal notice\n============\n\n" + body)
    # a short line between two passages is not the title: it stays text
    inner = body + "\n\nNo sale of data.\n\nWe keep logs for a year."
    assert _substantive(inner, inner.replace("No sale of data.\n\n", ""))


def test_short_repeated_passages_are_duplicates_only_when_a_stretch_of_the_text_repeats():
    """Issue 13 (Lovable's terms captured twice): the short headings and contact lines of the
    second copy go with it. A short list entry added where it already is elsewhere stays text."""
    sections = [
        f"**Section {n}**\n\nClause {n} says what the parties agreed about matter number {n}." for n in range(8)
    ]
    once = "\n\n".join(sections)
    assert not _substantive(once, once + "\n\n" + once)
    lists = "## We collect\n\n* Email address\n* Name\n\n## We share with advertisers\n\n* Name"
    assert _substantive(lists, lists + "\n* Email address") == ["text"]


def test_a_list_of_patent_numbers_is_not_text():
    text = "## Patents\n\nOur products are covered by patents.\n\n"
    added = text + "• In Australia: 2020326435, 2023222905, 2023258365."
    assert not _substantive(text, added)
    # an entry with a number in it is not a list of patent numbers
    assert _substantive(text, text + "• We keep your data for 2020326435 seconds.")


def test_chinese_variant_characters_and_swapped_phrases_are_micro_edits_not_negations():
    """Issue 13 (Wenxinyiyan's 帐户名 to 账户名, Doubao's 具体可移动端查看 to 移动端具体可查看).
    A negation or a party swapped is never a micro-edit."""

    def micro(old: str, new: str) -> bool:
        return not _substantive(f"## 条款\n\n{old}。", f"## 条款\n\n{new}。")

    assert micro("您将无需填写手机号、验证码、帐户名、密码等", "您将无需填写手机号、验证码、账户名、密码等")
    assert micro(
        "本软件包括开源软件，具体可移动端查看开源声明，电脑版可查看声明",
        "本软件包括开源软件，移动端具体可查看开源声明，电脑版可查看声明",
    )
    assert not micro("我们可以使用你的数据，用于训练模型", "我们不以使用你的数据，用于训练模型")
    assert not micro("我们会将你的数据提供给第三方，用于广告", "我们不将你的数据提供给第三方，用于广告")
    assert not micro("服务开通后，我们向你收费，按月结算", "服务开通后，你向我们收费，按月结算")


def test_a_product_renamed_throughout_the_text_is_a_micro_edit_whatever_the_menu_says():
    """Issue 13 (Stability's terms, "Dream Studio" to "Brand Studio" in every sentence while the
    footer menu listed "Brand Studio" already). A name replaced in one place only stays text."""
    footer = "\n\n#### Applications\n\n[Brand Studio](https://example.com/brand)\n\n[Stable Audio](https://example.com/audio)"
    old = ("These Terms govern your use of Dream Studio, Stable Audio and our APIs.\n\n"
           "For users of Dream Studio, you may train LoRAs. Stability may remove your LoRA from Dream Studio.")  # fmt: skip
    assert not _substantive(old + footer, old.replace("Dream Studio", "Brand Studio") + footer)
    once = old.replace("Dream Studio", "Brand Studio", 1)
    assert _substantive(old + footer, once + footer)
