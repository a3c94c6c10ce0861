"""Structural diff: two versions as blocks, aligned, with moves and word-level changes.

1. Both versions are parsed into blocks (``policywatch.analysis.blocks``) and aligned on their
   noise-rule form with ``difflib.SequenceMatcher`` (blocks, not lines: a reflowed
   paragraph is one unit).
2. Where a run of blocks was replaced, a run whose words are unchanged as a whole is a
   reflow (a list item split in two, a paragraph wrapped differently): one formatting change.
3. A removed block whose words reappear elsewhere is a move, not a deletion and an addition.
4. The remaining removed and added blocks of a run are paired in order when their words are
   similar enough (a modified block); the rest are added or removed.
5. Each change gets a class: ``text`` (words changed), or one of the classes that never make
   a change substantive: ``formatting`` (same words), ``link`` (same words, other link
   targets), ``label`` (page chrome such as a language picker), ``navigation`` (an in-page
   table of contents), ``date`` (only dates changed, or a line that only states a date),
   ``moved`` (the same words elsewhere).

Budgets: a version can be 5 MB of text built to defeat a diff (tens of thousands of blocks,
repeated blocks, one paragraph of a million words). Each matching step charges an allowance
(``policywatch.text.matching``) sized far above what real versions need; past one, that step is
done coarsely (blocks aligned on their unique blocks, pairs sought among nearby candidates,
word-level changes cut to the changed stretch) and the comparison says so in ``limits``.
The change is still recorded and classified; nothing is dropped for being big.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from policywatch.analysis import dates
from policywatch.analysis.blocks import Block, parse, plain_words
from policywatch.analysis.pairing import MIN_PAIR_RATIO, exact_pairs, near_pairs
from policywatch.text.matching import Allowance, BudgetedMatcher, Overrun, coarse_opcodes, common_length
from policywatch.text.wordchanges import DELTA_STEPS, word_delta

__all__ = ["MIN_PAIR_RATIO", "BlockChange", "DiffBudget", "Comparison", "compare", "quote"]

MAX_QUOTE_CHARS = 600
# Matching steps one comparison may spend (``matching.Allowance``): five times what the most
# demanding real pairs of the corpus need (2,624 pairs of Open Terms Archive's GenAI
# histories; the largest, Llama API's privacy policy rewritten: 1,900 and 1,327 blocks).
ALIGN_STEPS = 600_000  # aligning the blocks of the two versions (the largest real pair: 119,000)
PAIR_STEPS = 800_000  # pairing removed and added blocks, every run together (real: 159,000)
# Changed blocks compared one by one (the largest real change has 1,287); past them each run
# of blocks is one change.
MAX_DETAILED_CHANGES = 3_000
UNDATED_FULL_CHARS = 100_000  # longer blocks compare their dates around the changed stretch only
_DATE_MARGIN = 100  # characters of unchanged text kept either side of that stretch


@dataclass
class DiffBudget:
    """What one comparison may spend, and each step it had to do coarsely (the record's ``limits``)."""

    align: Allowance = field(default_factory=lambda: Allowance(ALIGN_STEPS))
    pair: Allowance = field(default_factory=lambda: Allowance(PAIR_STEPS))
    delta: Allowance = field(default_factory=lambda: Allowance(DELTA_STEPS))
    limits: list[dict[str, str]] = field(default_factory=list)

    def limit(self, step: str, note: str) -> None:
        """Record that ``step`` was done coarsely (once per step: the first note says why)."""
        if all(entry["step"] != step for entry in self.limits):
            self.limits.append({"step": step, "note": note})


@dataclass(eq=False)
class BlockChange:
    op: str  # added | removed | modified | moved
    cls: str  # text | formatting | link | label | navigation | date | moved
    old: Block | None
    new: Block | None
    at: float = 0.0  # place in document order (set by compare)
    budget: DiffBudget | None = field(default=None, repr=False)  # the comparison's, for the word-level change
    _delta: list[dict[str, str]] | None = field(default=None, init=False, repr=False)

    @property
    def heading(self) -> str:
        return (self.new or self.old).path  # type: ignore[union-attr]

    @property
    def moved_from(self) -> str:
        return self.old.path if self.op == "moved" and self.old else ""

    @property
    def before(self) -> str:
        return self.old.text if self.old else ""

    @property
    def after(self) -> str:
        return self.new.text if self.new else ""

    @property
    def substantive(self) -> bool:
        return self.cls == "text"

    def delta(self) -> list[dict[str, str]]:
        """Word-level changes of a modified block: equal, removed and added runs of the reader's text.

        Computed once, within the comparison's budget (``wordchanges.word_delta``).
        """
        if self.op != "modified" or not self.old or not self.new:
            return []
        if self._delta is None:
            budget = self.budget or DiffBudget()
            self._delta = word_delta(self.old.plain, self.new.plain, budget.delta, budget.limit)
        return list(self._delta)


@dataclass
class Comparison:
    old_blocks: list[Block]
    new_blocks: list[Block]
    changes: list[BlockChange] = field(default_factory=list)
    budget: DiffBudget = field(default_factory=DiffBudget)

    @property
    def substantive(self) -> list[BlockChange]:
        return [c for c in self.changes if c.substantive]

    @property
    def limits(self) -> list[dict[str, str]]:
        """The steps done coarsely for want of budget (empty for real versions)."""
        return self.budget.limits


def compare(old_text: str, new_text: str, *, budget: DiffBudget | None = None) -> Comparison:
    budget = budget or DiffBudget()
    old, new = parse(old_text), parse(new_text)
    comparison = Comparison(old, new, budget=budget)
    runs = [(a1, a2, b1, b2) for op, a1, a2, b1, b2 in _align(old, new, budget) if op != "equal"]

    pending: list[tuple[list[Block], list[Block], int]] = []
    for a1, a2, b1, b2 in runs:
        removed, added = old[a1:a2], new[b1:b2]
        if removed and added and _same_words(removed, added):
            comparison.changes.append(_reflow(removed, added, at=b1))
        else:
            pending.append((removed, added, b1))

    moved = _moves(pending)
    moved_to = {id(b) for b in moved.values()}
    detailed, past = len(comparison.changes) + len(moved), 0
    for removed, added, b1 in pending:
        removed = [b for b in removed if b not in moved]
        added_left = [b for b in added if id(b) not in moved_to]
        if detailed < MAX_DETAILED_CHANGES:
            made = _pair(removed, added_left, budget)
            detailed += len(made)
            comparison.changes.extend(made)
        elif removed or added_left:
            comparison.changes.append(_run_change(removed, added_left, at=b1))
            past += len(removed) + len(added_left)
    if past:
        budget.limit(
            "blocks",
            f"over {MAX_DETAILED_CHANGES:,} changed blocks: each run of the other {past:,} is one change, "
            "not paired block by block, and text unless its words are the same",
        )
    comparison.changes.extend(BlockChange("moved", "moved", before, after) for before, after in moved.items())
    for change in comparison.changes:
        change.budget = budget
    _place(comparison, runs)
    comparison.changes.sort(key=lambda c: c.at)
    return comparison


def _align(old: list[Block], new: list[Block], budget: DiffBudget) -> Sequence[tuple[str, int, int, int, int]]:
    """``SequenceMatcher`` opcodes of the blocks' noise-rule forms; past ``ALIGN_STEPS``, coarse ones."""
    a, b = [block.norm for block in old], [block.norm for block in new]
    try:
        return BudgetedMatcher(a, b, budget.align).get_opcodes()
    except Overrun as exc:
        budget.limit(
            "alignment",
            f"aligning {len(a):,} and {len(b):,} blocks {exc}: aligned on the blocks found once in each version",
        )
        return coarse_opcodes(a, b)


def _place(comparison: Comparison, runs: list[tuple[int, int, int, int]]) -> None:
    """Document order: a change sits where its block is in the new version; a removed block
    where its run was."""
    new_index = {id(b): i for i, b in enumerate(comparison.new_blocks)}
    # A removed block sits where its run is, as far into it as it was in the old version.
    run_of_old = {
        id(b): min(b1 + offset, b2) - 0.5 + offset * 1e-4
        for a1, a2, b1, b2 in runs
        for offset, b in enumerate(comparison.old_blocks[a1:a2])
    }
    for change in comparison.changes:
        if change.new is not None and id(change.new) in new_index:
            change.at = new_index[id(change.new)]
        elif change.new is None and id(change.old) in run_of_old:
            change.at = run_of_old[id(change.old)]
        # else a change of joined blocks (a reflow, a run past the budget), placed when it was made


def _same_words(removed: list[Block], added: list[Block]) -> bool:
    return [w for b in removed for w in b.words] == [w for b in added for w in b.words]


def _reflow(removed: list[Block], added: list[Block], *, at: int) -> BlockChange:
    """A run re-rendered with the same words: one formatting change spanning the run."""
    old, new = _joined(removed), _joined(added)
    cls = "link" if old.link_targets != new.link_targets and old.words == new.words else "formatting"
    return BlockChange("modified", cls, old, new, at)


def _joined(blocks: list[Block]) -> Block:
    return Block(blocks[0].kind, "\n\n".join(b.text for b in blocks), blocks[0].path, blocks[0].level)


def _run_change(removed: list[Block], added: list[Block], *, at: int) -> BlockChange:
    """A run past ``MAX_DETAILED_CHANGES``: one change for all its blocks. Its class is ``text``
    unless its words are the same (or it has none): page chrome and dates are not told apart."""
    if removed and added:
        old, new = _joined(removed), _joined(added)
        cls = (
            "text"
            if not _same_words(removed, added)
            else "link"
            if old.link_targets != new.link_targets
            else "formatting"
        )
        return BlockChange("modified", cls, old, new, at)
    blocks = removed or added
    cls = "text" if any(b.words for b in blocks) else "formatting"
    if removed:
        return BlockChange("removed", cls, _joined(removed), None, at - 0.5)
    return BlockChange("added", cls, None, _joined(added), at)


def _moves(pending: list[tuple[list[Block], list[Block], int]]) -> dict[Block, Block]:
    """Removed blocks whose words reappear, unchanged, somewhere else."""
    by_words: dict[tuple[str, ...], deque[Block]] = {}
    for removed, _, _ in pending:
        for block in removed:
            if len(block.words) >= 3:
                by_words.setdefault(block.words, deque()).append(block)
    moved: dict[Block, Block] = {}
    for _, added, _ in pending:
        for block in added:
            candidates = by_words.get(block.words)
            if candidates:
                moved[candidates.popleft()] = block
    return moved


def _pair(removed: list[Block], added: list[Block], budget: DiffBudget) -> list[BlockChange]:
    """Pair removed and added blocks of one run, in order, when their words are alike (``pairing``)."""
    try:
        pairs = exact_pairs(removed, added, budget.pair)
    except Overrun as exc:
        budget.limit(
            "pairing",
            f"pairing {len(removed):,} removed and {len(added):,} added blocks {exc}: "
            "each removed block weighed against nearby added blocks only",
        )
        pairs = near_pairs(removed, added)
    changes: list[BlockChange] = []
    start = 0
    paired = dict(pairs)
    for i, old in enumerate(removed):
        best = paired.get(i)
        if best is None:
            changes.append(BlockChange("removed", _single_class(old), old, None))
            continue
        changes.extend(BlockChange("added", _single_class(b), None, b) for b in added[start:best])
        changes.append(BlockChange("modified", _modified_class(old, added[best]), old, added[best]))
        start = best + 1
    changes.extend(BlockChange("added", _single_class(b), None, b) for b in added[start:])
    return changes


def _modified_class(old: Block, new: Block) -> str:
    if old.words == new.words:
        return "link" if old.link_targets != new.link_targets else "formatting"
    if _same_undated(old, new):
        return "date"
    if old.is_navigation and new.is_navigation:
        return "navigation"
    if old.is_label and new.is_label:
        return "label"
    return "text"


def _same_undated(old: Block, new: Block) -> bool:
    """Whether only dates differ. Past ``UNDATED_FULL_CHARS`` the dates are masked around the
    changed stretch only (with a margin wider than any date): the text either side is the
    same in both, and so is what masking makes of it."""
    if max(len(old.plain), len(new.plain)) <= UNDATED_FULL_CHARS:
        return old.undated == new.undated
    a, b = old.plain, new.plain
    head = max(common_length(a, b) - _DATE_MARGIN, 0)
    tail = max(common_length(a[head:][::-1], b[head:][::-1]) - _DATE_MARGIN, 0)
    return plain_words(dates.mask(a[head : len(a) - tail])) == plain_words(dates.mask(b[head : len(b) - tail]))


def _single_class(block: Block) -> str:
    """The class of a block added or removed on its own."""
    if not block.words:
        return "formatting"  # an image, a rule, an empty cell
    if block.is_navigation:
        return "navigation"
    if block.is_label:
        return "label"
    if dates.is_date_statement(block.plain):
        return "date"
    return "text"


def quote(text: str) -> str:
    return text if len(text) <= MAX_QUOTE_CHARS else text[: MAX_QUOTE_CHARS - 1] + "\u2026"
