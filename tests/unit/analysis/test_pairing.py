"""Pairing removed and added blocks (``policywatch.analysis.pairing``): exactly, as ``SequenceMatcher``
weighs words, within the pairing allowance; among a bounded set of candidates past it."""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policywatch.analysis.pairing import MIN_PAIR_RATIO, NEAR_WINDOW, exact_pairs, near_pairs
from policywatch.text.matching import Allowance, Overrun
from tests.helpers.strategies import PROPERTY

AMPLE = 10**9


@dataclass(frozen=True)
class Block:
    words: tuple[str, ...]


def blocks(*texts: str) -> list[Block]:
    return [Block(tuple(text.split())) for text in texts]


def fillers(n: int) -> list[str]:
    """Added blocks that share no word with anything else."""
    return [f"filler{j} padding{j}" for j in range(n)]


def both(removed: list[str], added: list[str]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    old, new = blocks(*removed), blocks(*added)
    return exact_pairs(old, new, Allowance(AMPLE)), near_pairs(old, new)


def test_an_identical_block_pairs_with_its_copy_wherever_it_is():
    assert both(["we keep chat data"], ["something else entirely", "we keep chat data"]) == ([(0, 1)], [(0, 1)])


def test_a_reworded_block_pairs_when_its_ratio_reaches_the_minimum():
    # 3 shared words of 4 + 4: SequenceMatcher's ratio 0.75.
    assert difflib.SequenceMatcher(None, ["we", "keep", "data", "30"], ["we", "keep", "data", "90"]).ratio() == 0.75
    assert both(["we keep data 30"], ["we keep data 90"]) == ([(0, 0)], [(0, 0)])
    # 2 shared words of 4 + 4: exactly MIN_PAIR_RATIO still pairs; 1 of 4 + 3 (0.29) does not.
    assert MIN_PAIR_RATIO == 0.5
    assert both(["a b c d"], ["a b x y"]) == ([(0, 0)], [(0, 0)])
    assert both(["a b c d"], ["a x y"]) == ([], [])


def test_unrelated_blocks_stay_unpaired():
    removed = ["we sell nothing to anyone", "cookies keep you signed in"]
    added = ["children under thirteen may not sign up", "contact our privacy officer"]
    assert both(removed, added) == ([], [])
    assert both([], added) == ([], []) and both(removed, []) == ([], [])


def test_of_equally_alike_blocks_the_later_one_is_taken():
    assert both(["a b c d"], ["a b c x", "a b c y", "z"]) == ([(0, 1)], [(0, 1)])
    assert both(["a b c d"], ["a b c d", "a b c d"]) == ([(0, 1)], [(0, 1)])


def test_the_best_match_wins_over_an_earlier_good_one():
    assert both(["a b c d e f"], ["a b c d x y", "a b c d e y", "q"]) == ([(0, 1)], [(0, 1)])


def test_pairs_keep_document_order_so_a_swap_pairs_only_once():
    removed = ["we keep logs for security", "we share data with partners"]
    added = ["we share data with partners", "we keep logs for security"]
    # The second removed block's match lies before the first pair: it is not weighed again.
    assert both(removed, added) == ([(0, 1)], [(0, 1)])


def test_each_added_block_pairs_at_most_once():
    assert both(["a b c", "d e f"], ["a b c", "d e f"]) == ([(0, 0), (1, 1)], [(0, 0), (1, 1)])
    # Copies tie: the first removed block takes the later copy, and none is left for the second.
    assert both(["a b c", "a b c"], ["a b c", "a b c"]) == ([(0, 1)], [(0, 1)])


def test_exact_pairing_spends_its_allowance_and_overruns_past_it():
    removed, added = blocks("a b c d", "e f g h"), blocks("a b c x", "e f g y", "z")
    enough = Allowance(AMPLE)
    assert exact_pairs(removed, added, enough) == [(0, 0), (1, 1)] and enough.used > 0
    assert exact_pairs(removed, added, Allowance(enough.used)) == [(0, 0), (1, 1)]
    with pytest.raises(Overrun, match="over 1 matching steps"):
        exact_pairs(removed, added, Allowance(1))
    assert exact_pairs([], added, Allowance(0)) == []  # nothing to weigh, nothing spent


def test_near_pairs_weigh_distinct_words_not_their_repeats():
    # SequenceMatcher sees 2 matches in 7 + 3 words (0.4); as sets {a, b} and {a, b, c} share 2 of 2 + 3 (0.8).
    assert both(["a a a a a a b"], ["a b c"]) == ([], [(0, 0)])


def test_near_pairs_find_a_far_block_by_a_rare_word():
    added = fillers(3 * NEAR_WINDOW) + ["we retain logs for ninety days"]
    assert both(["we retain logs for thirty days"], added) == ([(0, 3 * NEAR_WINDOW)], [(0, 3 * NEAR_WINDOW)])


def test_near_pairs_miss_a_far_block_of_common_words():
    # Past the window, a block whose words each fill many single-word blocks is not among the candidates.
    added = fillers(NEAR_WINDOW) + [w for _ in range(4) for w in "abcd"] + ["a b c d"]
    assert both(["a b c d"], added) == ([(0, len(added) - 1)], [])


# Past the window every word is as rare as the next (once among the added blocks): which four of the
# removed block's twelve are looked up is decided by the words themselves (a1-a4), not by set or list order.
TIED = (
    ["a1 a2 a3 a4 a5 a6 a7 z1 z2 z3 z4 z5"],
    [*fillers(NEAR_WINDOW), "z1", "z2", "z3", "z4", "z5", "a1 a2 a3 a4 a5 a6 a7"],
)
_SCRIPT = """
import json, sys
from policywatch.analysis.pairing import near_pairs
class Block:
    def __init__(self, text):
        self.words = tuple(text.split())
removed, added = json.loads(sys.argv[1])
print(json.dumps(near_pairs([Block(t) for t in removed], [Block(t) for t in added])))
"""


def test_near_pairs_are_the_same_on_every_run():
    """Ties are broken by the word, not by a set's order, which changes with the hash seed."""
    assert both(*TIED) == ([(0, NEAR_WINDOW + 5)], [(0, NEAR_WINDOW + 5)])
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        command = [sys.executable, "-c", _SCRIPT, json.dumps(TIED)]
        run = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        assert json.loads(run.stdout) == [[0, NEAR_WINDOW + 5]]


def _reference(removed: list[Block], added: list[Block]) -> list[tuple[int, int]]:
    """The module's docstring, literally: each removed block against every later added block."""
    pairs, start = [], 0
    for i, old in enumerate(removed):
        best, best_ratio = None, MIN_PAIR_RATIO
        for j in range(start, len(added)):
            ratio = difflib.SequenceMatcher(None, old.words, added[j].words, autojunk=False).ratio()
            if ratio >= best_ratio:
                best, best_ratio = j, ratio
        if best is not None:
            pairs.append((i, best))
            start = best + 1
    return pairs


_blocks = st.lists(st.lists(st.sampled_from("abcdef"), max_size=6).map(lambda w: Block(tuple(w))), max_size=7)


@PROPERTY
@given(_blocks, _blocks)
def test_exact_pairs_are_sequence_matchers_and_near_pairs_are_ordered_and_alike(removed, added):
    enough = Allowance(AMPLE)
    exact = exact_pairs(removed, added, enough)
    assert exact == _reference(removed, added)
    assert exact_pairs(removed, added, Allowance(enough.used)) == exact
    if enough.used:
        with pytest.raises(Overrun):
            exact_pairs(removed, added, Allowance(enough.used - 1))
    near = near_pairs(removed, added)
    for pairs in (exact, near):
        assert all(i1 < i2 and j1 < j2 for (i1, j1), (i2, j2) in zip(pairs, pairs[1:], strict=False))
    for i, j in near:
        old, new = set(removed[i].words), set(added[j].words)
        assert (not old and not new) or 2 * len(old & new) / (len(old) + len(new)) >= MIN_PAIR_RATIO
