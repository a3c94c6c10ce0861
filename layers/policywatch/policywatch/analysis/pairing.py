"""Pairing the removed and added blocks of one replaced run: which added block is which removed one, modified.

Each removed block, in order, is paired with the added block after the last pair whose words
are most alike (``SequenceMatcher.ratio`` over words, at least ``MIN_PAIR_RATIO``; of equal
ratios the later block). Exactly so while the work stays within the comparison's pairing
allowance: every removed block is weighed against every later added block, which is
quadratic in the run, harmless for real runs (a few hundred blocks at most) and not for a
page of forty thousand.

Past the allowance the run is paired the same way among a bounded set of candidates for each
removed block (the ``NEAR_WINDOW`` added blocks after the last pair, and up to ``NEAR_RARE``
more that share its rarest words), by the share of distinct words two blocks have in common
(a set intersection, in C). Linear in the run.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from typing import Protocol

from policywatch.text.matching import Allowance, BudgetedMatcher, ratio_of

MIN_PAIR_RATIO = 0.5
NEAR_WINDOW = 8  # added blocks after the last pair, weighed against each removed block
NEAR_RARE = 4  # more candidates, by the removed block's rarest words


class Words(Protocol):
    @property
    def words(self) -> tuple[str, ...]: ...  # read-only: Block's is a cached_property


class _Bag:
    """A block's words as a set, and with their counts when some repeat."""

    __slots__ = ("distinct", "counts")

    def __init__(self, words: tuple[str, ...]) -> None:
        self.distinct = frozenset(words)
        self.counts = Counter(words) if len(self.distinct) < len(words) else None

    def shared(self, other: _Bag) -> int:
        """Words both have, with repeats: ``SequenceMatcher.quick_ratio``'s count."""
        common = self.distinct & other.distinct
        if self.counts is None or other.counts is None:
            return len(common)  # one side has each word once
        return sum(min(self.counts[w], other.counts[w]) for w in common)


def _bags(blocks: Sequence[Words]) -> list[_Bag]:
    return [_Bag(block.words) for block in blocks]


def exact_pairs(removed: Sequence[Words], added: Sequence[Words], allowance: Allowance) -> list[tuple[int, int]]:
    """(i, j) of each modified pair, as ``SequenceMatcher`` weighs them; ``Overrun`` past ``allowance``."""
    removed_bags, added_bags = _bags(removed), _bags(added)
    pairs: list[tuple[int, int]] = []
    start = 0
    for i, old in enumerate(removed):
        best, best_ratio = None, MIN_PAIR_RATIO
        allowance.spend(len(added) - start + 1)
        for j in range(start, len(added)):
            new = added[j]
            length = len(old.words) + len(new.words)
            # real_quick_ratio, then quick_ratio, then ratio: SequenceMatcher's own filters.
            if ratio_of(min(len(old.words), len(new.words)), length) < best_ratio:
                continue
            allowance.spend(8 + min(len(removed_bags[i].distinct), len(added_bags[j].distinct)) // 8)
            if ratio_of(removed_bags[i].shared(added_bags[j]), length) < best_ratio:
                continue
            ratio = BudgetedMatcher(old.words, new.words, allowance).ratio()
            if ratio >= best_ratio:
                best, best_ratio = j, ratio
        if best is not None:
            pairs.append((i, best))
            start = best + 1
    return pairs


def near_pairs(removed: Sequence[Words], added: Sequence[Words]) -> list[tuple[int, int]]:
    """(i, j) of each modified pair, each removed block weighed against a bounded set of candidates."""
    removed_bags, added_bags = _bags(removed), _bags(added)
    rare = _RareWords(added_bags)
    pairs: list[tuple[int, int]] = []
    start = 0
    for i, bag in enumerate(removed_bags):
        candidates = set(range(start, min(start + NEAR_WINDOW, len(added))))
        candidates.update(rare.after(bag, start))
        best, best_ratio = None, MIN_PAIR_RATIO
        for j in sorted(candidates):
            other = added_bags[j]
            ratio = ratio_of(len(bag.distinct & other.distinct), len(bag.distinct) + len(other.distinct))
            if ratio >= best_ratio:
                best, best_ratio = j, ratio
        if best is not None:
            pairs.append((i, best))
            start = best + 1
    return pairs


class _RareWords:
    """Added blocks by their rarest words (the fewest added blocks of the run have them)."""

    PER_BLOCK = 2  # rarest words an added block is listed under
    LOOKED_UP = 4  # rarest words of a removed block looked up

    def __init__(self, added: Sequence[_Bag]) -> None:
        frequency: Counter[str] = Counter()
        for bag in added:
            frequency.update(bag.distinct)
        # Rank of each word, rarest first (ties by the word: the same on every run).
        self.rank = {w: r for r, w in enumerate(sorted(frequency, key=lambda w: (frequency[w], w)))}
        self.blocks: dict[str, list[int]] = {}
        for j, bag in enumerate(added):
            for word in self._rarest(bag, self.PER_BLOCK):
                self.blocks.setdefault(word, []).append(j)

    def _rarest(self, bag: _Bag, n: int) -> list[str]:
        rank = self.rank
        return sorted(filter(rank.__contains__, bag.distinct), key=rank.__getitem__)[:n]

    def after(self, bag: _Bag, start: int) -> list[int]:
        """Up to ``NEAR_RARE`` added blocks from ``start`` on that share one of the block's rarest words."""
        found: list[int] = []
        words = self._rarest(bag, self.LOOKED_UP)
        each = max(NEAR_RARE // max(len(words), 1), 1)
        for word in words:
            listed = self.blocks.get(word, [])
            at = bisect_left(listed, start)
            found.extend(listed[at : at + each])
        return found[:NEAR_RARE]
