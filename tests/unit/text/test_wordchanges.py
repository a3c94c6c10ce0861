"""Word-level changes of a modified passage (``policywatch.text.wordchanges``): equal, removed and added runs,
matched case-blind within an allowance; by the passage's ends, and with ``limit`` told, past it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from policywatch.text.matching import Allowance
from policywatch.text.wordchanges import (
    DELTA_FULL_CHARS,
    DELTA_STEPS,
    MAX_DELTA_CHARS,
    MAX_DELTA_SEGMENTS,
    quote_delta,
    word_delta,
)
from tests.helpers.strategies import PROPERTY

COARSE = "shown as the stretch between the words both versions share at its ends"


class Limits(list):
    """A ``limit`` callback that keeps what it was told."""

    def __call__(self, step: str, note: str) -> None:
        self.append((step, note))


def delta(old: str, new: str, allowance: Allowance | None = None) -> tuple[list[dict[str, str]], Limits]:
    limits = Limits()
    return word_delta(old, new, allowance or Allowance(10**9), limits), limits


def runs(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"op": op, "text": text} for op, text in pairs]


def test_identical_texts_are_one_equal_run():
    assert delta("We share data with partners.", "We share data with partners.") == (
        runs(("equal", "We share data with partners.")),
        [],
    )


def test_words_are_matched_case_blind_and_shown_as_the_old_text_had_them():
    assert delta("We Share  data\nwith partners.", "we share data with PARTNERS.")[0] == runs(
        ("equal", "We Share data with partners.")
    )


def test_an_insertion_in_the_middle_is_one_added_run():
    assert delta("We share data with partners.", "We share data with trusted partners.")[0] == runs(
        ("equal", "We share data with"), ("added", "trusted"), ("equal", "partners.")
    )


def test_a_replacement_is_a_removed_then_an_added_run():
    assert delta("We will not sell your data.", "We will never sell your data.")[0] == runs(
        ("equal", "We will"), ("removed", "not"), ("added", "never"), ("equal", "sell your data.")
    )


def test_all_new_or_all_gone_is_a_single_run():
    assert delta("", "A new clause.")[0] == runs(("added", "A new clause."))
    assert delta("An old clause.", "")[0] == runs(("removed", "An old clause."))


def test_a_long_unchanged_stretch_keeps_its_first_and_last_eight_words():
    shared = " ".join(f"w{k}" for k in range(30))
    assert delta(f"{shared} thirty", f"{shared} ninety")[0] == runs(
        ("equal", "w0 w1 w2 w3 w4 w5 w6 w7 \u2026 w22 w23 w24 w25 w26 w27 w28 w29"),
        ("removed", "thirty"),
        ("added", "ninety"),
    )
    seventeen = " ".join(f"w{k}" for k in range(17))  # 2 x 8 + 1 words: shown whole
    assert delta(f"{seventeen} a", f"{seventeen} b")[0][0] == {"op": "equal", "text": seventeen}


def test_a_run_is_cut_at_the_longest_shown():
    long_word = "x" * (MAX_DELTA_CHARS + 500)
    removed = delta(f"Keep {long_word}", "Keep")[0][1]
    assert removed["op"] == "removed" and len(removed["text"]) == MAX_DELTA_CHARS
    assert removed["text"] == "x" * (MAX_DELTA_CHARS - 1) + "\u2026"


def test_the_list_of_runs_is_capped_with_an_ellipsis():
    old = " ".join(f"same{k} old{k}" for k in range(100))
    new = " ".join(f"same{k} new{k}" for k in range(100))
    shown, limits = delta(old, new)
    assert len(shown) == MAX_DELTA_SEGMENTS + 1 and not limits
    assert shown[:3] == runs(("equal", "same0"), ("removed", "old0"), ("added", "new0"))
    assert shown[-1] == {"op": "equal", "text": "\u2026"}


def test_past_the_allowance_the_change_is_shown_by_its_ends_and_limit_is_told():
    exact, limits = delta("a b c d e", "a x c y e")
    assert not limits and exact == runs(
        ("equal", "a"),
        ("removed", "b"),
        ("added", "x"),
        ("equal", "c"),
        ("removed", "d"),
        ("added", "y"),
        ("equal", "e"),
    )
    coarse, limits = delta("a b c d e", "a x c y e", Allowance(1))
    assert coarse == runs(("equal", "a"), ("removed", "b c d"), ("added", "x c y"), ("equal", "e"))
    assert limits == [("delta", f"word-level changes over 1 matching steps: {COARSE}")]


def test_one_allowance_is_shared_by_every_passage_it_is_given_to():
    spent = Allowance(10**9)
    word_delta("We keep data for 30 days.", "We keep data for 90 days.", spent, Limits())
    shared = Allowance(spent.used)  # enough for one passage, not two
    first, second = Limits(), Limits()
    word_delta("We keep data for 30 days.", "We keep data for 90 days.", shared, first)
    assert not first and shared.left == 0
    assert word_delta("We keep data for 30 days.", "We keep data for 90 days.", shared, second) == runs(
        ("equal", "We keep data for"), ("removed", "30"), ("added", "90"), ("equal", "days.")
    )  # the ends happen to be the same answer
    assert [step for step, _ in second] == ["delta"]


def test_a_passage_over_the_full_delta_size_is_coarse_at_once_on_its_characters():
    body = " ".join(f"w{k}" for k in range(40_000))
    old, new = f"{body} We will not sell data. {body}", f"{body} We will sell data. {body}"
    assert len(old) > DELTA_FULL_CHARS
    allowance = Allowance(10**9)
    shown, limits = delta(old, new, allowance)
    assert limits == [("delta", f"a passage of over {DELTA_FULL_CHARS:,} characters: {COARSE}")]
    assert allowance.used == 0  # no word matching was tried
    assert [run["op"] for run in shown] == ["equal", "removed", "equal"] and shown[1]["text"] == "not"
    assert shown[0]["text"] == "w0 w1 w2 w3 w4 w5 w6 w7 \u2026 w39994 w39995 w39996 w39997 w39998 w39999 We will"
    assert shown[2]["text"].startswith("sell data. w0 w1 ") and shown[2]["text"].endswith(" w39998 w39999")
    # On the characters, letter case counts, and a word that differs in part is not shared.
    cased = delta(old, old.replace("We will not", "We Will not"))[0]
    assert [(run["op"], run["text"]) for run in cased[1:3]] == [("removed", "will"), ("added", "Will")]
    partly = delta(old, old.replace("sell data", "sells data"))[0]
    assert [(run["op"], run["text"]) for run in partly[1:3]] == [("removed", "sell"), ("added", "sells")]


def test_quote_delta_is_word_delta_with_a_fresh_comparison_allowance():
    cheap = ("a " + "x " * 500 + "b", "c " + "x " * 500 + "d")  # matching costs about 250,000 steps
    dear = ("a " + "x " * 1_000 + "b", "c " + "x " * 1_000 + "d")  # about 1,000,000: past DELTA_STEPS
    for old, new in (cheap, dear, ("We will not sell data.", "We will sell data.")):
        expected, _ = delta(old, new, Allowance(DELTA_STEPS))
        assert quote_delta(old, new) == quote_delta(old, new) == expected  # the same, call after call
    assert [run["op"] for run in quote_delta(*cheap)] == ["removed", "added", "equal", "removed", "added"]
    assert [run["op"] for run in quote_delta(*dear)] == ["removed", "added"]  # no shared ends: all of it
    body = "w " * DELTA_FULL_CHARS
    assert [run["op"] for run in quote_delta(body + "a", body + "b")] == ["equal", "removed", "added"]


_words = st.lists(st.sampled_from(["we", "We", "share", "SHARE", "data", "never", "partners.", "30", "90"]), max_size=8)
_spaces = st.sampled_from([" ", "  ", "\n", "\t "])


@st.composite
def _passages(draw) -> str:
    words = draw(_words)
    return "".join(word + draw(_spaces) for word in words)


@PROPERTY
@given(_passages(), _passages(), st.sampled_from([10**9, 0]))
def test_the_runs_rebuild_both_texts(old, new, steps):
    """Equal and removed runs are the old words, equal and added runs the new (case-blind); exact or coarse."""
    limits = Limits()
    shown = word_delta(old, new, Allowance(steps), limits)
    assert [text for _, text in limits] == ([] if steps else [f"word-level changes over 0 matching steps: {COARSE}"])
    assert " ".join(run["text"] for run in shown if run["op"] != "added") == " ".join(old.split())
    assert " ".join(run["text"] for run in shown if run["op"] != "removed").lower() == " ".join(new.split()).lower()
    assert all(run["text"] for run in shown)
    assert all(a["op"] != b["op"] for a, b in zip(shown, shown[1:], strict=False))
