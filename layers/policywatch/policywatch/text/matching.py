"""Sequence matching with a work budget, and the coarse alignment used past it.

``difflib.SequenceMatcher`` is exact but its cost depends on the input: a few thousand
matching steps for two versions of a real policy, billions for a page built to defeat it
(thousands of all-different or repeated blocks, a paragraph of a million words). Here every
``find_longest_match`` first charges its cost to an ``Allowance``: the number of candidate
positions its inner loop will visit, known before it runs. Within the allowance the result is
``SequenceMatcher``'s, bit for bit; past it ``Overrun`` is raised and the caller falls back to
``coarse_opcodes`` (near-linear) or to a coarser answer of its own, and says so.
"""

from __future__ import annotations

import difflib
from bisect import bisect_left
from collections.abc import Hashable, Sequence
from itertools import accumulate
from typing import Any

from policywatch.core.errors import PolicywatchError

# What one call of ``find_longest_match`` costs besides its loop, in steps (it makes two dicts).
CALL_STEPS = 20
# How deep ``coarse_opcodes`` looks for unique items again inside the gaps between anchors.
COARSE_DEPTH = 4


class Overrun(PolicywatchError):  # control flow: always caught inside the diff
    """A matcher would spend more than its allowance."""


class Allowance:
    """Units of matching work a comparison may spend on one task; ``spend`` raises ``Overrun`` past the limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def spend(self, units: int) -> None:
        self.used += units
        if self.used > self.limit:
            raise Overrun(f"over {self.limit:,} matching steps")

    @property
    def left(self) -> int:
        return max(self.limit - self.used, 0)


class BudgetedMatcher(difflib.SequenceMatcher):
    """``SequenceMatcher`` (no junk, no autojunk) that charges its work to an ``Allowance``.

    The cost of ``find_longest_match`` over ``a[alo:ahi]`` is ``ahi - alo`` plus the number of
    positions in ``b`` of those elements: prefix sums over ``a`` give it in constant time.
    """

    # Set by SequenceMatcher.set_seqs; typeshed does not declare them.
    a: Sequence[Hashable]
    b2j: dict[Hashable, list[int]]

    def __init__(self, a: Sequence[Hashable], b: Sequence[Hashable], allowance: Allowance) -> None:
        allowance.spend(len(a) + len(b) + 1)  # indexing b, summing over a
        self._allowance = allowance
        self._cost: list[int] = []
        super().__init__(None, a, b, autojunk=False)
        b2j = self.b2j
        self._cost = [0, *accumulate(len(b2j.get(x, ())) + 1 for x in a)]

    def find_longest_match(self, alo=0, ahi=None, blo=0, bhi=None):  # noqa: ANN001, ANN201 (difflib's signature)
        ahi = len(self.a) if ahi is None else ahi
        self._allowance.spend(self._cost[ahi] - self._cost[alo] + CALL_STEPS)
        return super().find_longest_match(alo, ahi, blo, bhi)


def common_length(a: Sequence[Any], b: Sequence[Any]) -> int:
    """Length of the common prefix of two strings (or word sequences), by halving: each
    comparison runs in C, and the slices compared halve each time (linear in all)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def common_ends(a: Sequence[Any], b: Sequence[Any]) -> tuple[int, int]:
    """How many items two sequences share at their start, then at their end past that start
    (the two never overlap): what lies between is where they differ."""
    head = common_length(a, b)
    return head, common_length(a[head:][::-1], b[head:][::-1])


def ratio_of(matches: int, length: int) -> float:
    """``SequenceMatcher``'s ratio formula, for counts computed elsewhere."""
    return 2.0 * matches / length if length else 1.0


def coarse_opcodes(a: Sequence[Hashable], b: Sequence[Hashable]) -> list[tuple[str, int, int, int, int]]:
    """Opcodes in ``SequenceMatcher.get_opcodes`` form from a near-linear alignment.

    Equal items at both ends are matched first; in between, items that occur exactly once on
    each side are anchors, kept in the longest increasing order (patience diff), and equal
    neighbours of each anchor join it. The gaps left are aligned the same way, a few levels
    deep, then reported as replaced. O(n log n) in the number of items.
    """
    matches: list[tuple[int, int, int]] = []
    _coarse(a, b, 0, len(a), 0, len(b), COARSE_DEPTH, matches)
    matches.append((len(a), len(b), 0))
    opcodes: list[tuple[str, int, int, int, int]] = []
    i = j = 0
    for ai, bj, size in matches:
        tag = "replace" if i < ai and j < bj else "delete" if i < ai else "insert" if j < bj else ""
        if tag:
            opcodes.append((tag, i, ai, j, bj))
        if size:
            opcodes.append(("equal", ai, ai + size, bj, bj + size))
        i, j = ai + size, bj + size
    return opcodes


def _coarse(
    a: Sequence[Hashable],
    b: Sequence[Hashable],
    alo: int,
    ahi: int,
    blo: int,
    bhi: int,
    depth: int,
    out: list[tuple[int, int, int]],
) -> None:
    """Append the matching blocks of ``a[alo:ahi]`` and ``b[blo:bhi]``, in order, to ``out``."""
    head = 0
    while alo + head < ahi and blo + head < bhi and a[alo + head] == b[blo + head]:
        head += 1
    if head:
        out.append((alo, blo, head))
        alo, blo = alo + head, blo + head
    tail = 0
    while ahi - tail > alo and bhi - tail > blo and a[ahi - tail - 1] == b[bhi - tail - 1]:
        tail += 1
    if depth and alo < ahi and blo < bhi:
        anchors = _anchors(a, b, alo, ahi - tail, blo, bhi - tail)
        i, j = alo, blo
        for ai, bj in anchors:
            if ai < i or bj < j:  # taken by the run of the anchor before
                continue
            start = 0  # equal neighbours before the anchor, back to the previous match
            while ai - start > i and bj - start > j and a[ai - start - 1] == b[bj - start - 1]:
                start += 1
            _coarse(a, b, i, ai - start, j, bj - start, depth - 1, out)
            size = start + 1
            while ai + size - start < ahi - tail and bj + size - start < bhi - tail:
                if a[ai + size - start] != b[bj + size - start]:
                    break
                size += 1
            out.append((ai - start, bj - start, size))
            i, j = ai - start + size, bj - start + size
        if anchors:
            _coarse(a, b, i, ahi - tail, j, bhi - tail, depth - 1, out)
    if tail:
        out.append((ahi - tail, bhi - tail, tail))


def _anchors(
    a: Sequence[Hashable], b: Sequence[Hashable], alo: int, ahi: int, blo: int, bhi: int
) -> list[tuple[int, int]]:
    """Items found exactly once on each side, as (i, j), in the longest order both sides agree on."""
    seen_a: dict[Hashable, int] = {}
    for i in range(alo, ahi):
        seen_a[a[i]] = -1 if a[i] in seen_a else i
    seen_b: dict[Hashable, int] = {}
    for j in range(blo, bhi):
        item = b[j]
        if seen_a.get(item, -1) >= 0:
            seen_b[item] = -1 if item in seen_b else j
    pairs = [(seen_a[item], j) for item, j in seen_b.items() if j >= 0]
    pairs.sort()
    # Longest increasing subsequence of j (patience sorting), with back links.
    tops: list[int] = []  # j of the top card of each pile
    top_index: list[int] = []  # index into pairs of that card
    back: list[int] = []
    for index, (_, j) in enumerate(pairs):
        pile = bisect_left(tops, j)
        back.append(top_index[pile - 1] if pile else -1)
        if pile == len(tops):
            tops.append(j)
            top_index.append(index)
        else:
            tops[pile] = j
            top_index[pile] = index
    chain: list[tuple[int, int]] = []
    index = top_index[-1] if top_index else -1
    while index >= 0:
        chain.append(pairs[index])
        index = back[index]
    chain.reverse()
    return chain
