"""Structural diff: two versions as blocks, aligned, with moves and word-level changes.

1. Both versions are parsed into blocks (``policywatch.blocks``) and aligned on their
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
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from policywatch import dates
from policywatch.blocks import Block, parse

MAX_QUOTE_CHARS = 600
MIN_PAIR_RATIO = 0.5
MAX_DELTA_SEGMENTS = 60


@dataclass(eq=False)
class BlockChange:
    op: str  # added | removed | modified | moved
    cls: str  # text | formatting | link | label | navigation | date | moved
    old: Block | None
    new: Block | None
    at: float = 0.0  # place in document order (set by compare)

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
        """Word-level changes of a modified block: equal, removed and added runs of the reader's text."""
        if self.op != "modified" or not self.old or not self.new:
            return []
        old_words, new_words = self.old.plain.split(), self.new.plain.split()
        matcher = difflib.SequenceMatcher(
            a=[w.lower() for w in old_words], b=[w.lower() for w in new_words], autojunk=False
        )
        segments: list[dict[str, str]] = []
        for op, a1, a2, b1, b2 in matcher.get_opcodes():
            if op == "equal":
                segments.append({"op": "equal", "text": _ellipsis(" ".join(old_words[a1:a2]))})
                continue
            if a2 > a1:
                segments.append({"op": "removed", "text": " ".join(old_words[a1:a2])})
            if b2 > b1:
                segments.append({"op": "added", "text": " ".join(new_words[b1:b2])})
        if len(segments) > MAX_DELTA_SEGMENTS:
            segments = segments[:MAX_DELTA_SEGMENTS] + [{"op": "equal", "text": "\u2026"}]
        return segments


def _ellipsis(text: str, keep: int = 8) -> str:
    """Unchanged words between two changes, shortened to the few either side."""
    parts = text.split()
    if len(parts) <= 2 * keep + 1:
        return text
    return " ".join(parts[:keep]) + " \u2026 " + " ".join(parts[-keep:])


@dataclass
class Comparison:
    old_blocks: list[Block]
    new_blocks: list[Block]
    changes: list[BlockChange] = field(default_factory=list)

    @property
    def substantive(self) -> list[BlockChange]:
        return [c for c in self.changes if c.substantive]


def compare(old_text: str, new_text: str) -> Comparison:
    old, new = parse(old_text), parse(new_text)
    comparison = Comparison(old, new)
    matcher = difflib.SequenceMatcher(a=[b.norm for b in old], b=[b.norm for b in new], autojunk=False)
    runs = [(a1, a2, b1, b2) for op, a1, a2, b1, b2 in matcher.get_opcodes() if op != "equal"]

    pending: list[tuple[list[Block], list[Block]]] = []
    for a1, a2, b1, b2 in runs:
        removed, added = old[a1:a2], new[b1:b2]
        if removed and added and _same_words(removed, added):
            comparison.changes.append(_reflow(removed, added, at=b1))
        else:
            pending.append((removed, added))

    moved = _moves(pending)
    for removed, added in pending:
        removed = [b for b in removed if b not in moved]
        added_left = [b for b in added if b not in moved.values()]
        comparison.changes.extend(_pair(removed, added_left))
    comparison.changes.extend(BlockChange("moved", "moved", before, after) for before, after in moved.items())
    _place(comparison, runs)
    comparison.changes.sort(key=lambda c: c.at)
    return comparison


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
        if change.op == "modified" and change.new is not None and id(change.new) not in new_index:
            continue  # a reflow, placed when it was made
        if change.new is not None:
            change.at = new_index[id(change.new)]
        else:
            change.at = run_of_old[id(change.old)]


def _same_words(removed: list[Block], added: list[Block]) -> bool:
    return [w for b in removed for w in b.words] == [w for b in added for w in b.words]


def _reflow(removed: list[Block], added: list[Block], *, at: int) -> BlockChange:
    """A run re-rendered with the same words: one formatting change spanning the run."""
    old = Block(removed[0].kind, "\n\n".join(b.text for b in removed), removed[0].path, removed[0].level)
    new = Block(added[0].kind, "\n\n".join(b.text for b in added), added[0].path, added[0].level)
    cls = "link" if old.link_targets != new.link_targets and old.words == new.words else "formatting"
    return BlockChange("modified", cls, old, new, at)


def _moves(pending: list[tuple[list[Block], list[Block]]]) -> dict[Block, Block]:
    """Removed blocks whose words reappear, unchanged, somewhere else."""
    by_words: dict[tuple[str, ...], list[Block]] = {}
    for removed, _ in pending:
        for block in removed:
            if len(block.words) >= 3:
                by_words.setdefault(block.words, []).append(block)
    moved: dict[Block, Block] = {}
    for _, added in pending:
        for block in added:
            candidates = by_words.get(block.words)
            if candidates:
                moved[candidates.pop(0)] = block
    return moved


def _pair(removed: list[Block], added: list[Block]) -> list[BlockChange]:
    """Pair removed and added blocks of one run, in order, when their words are alike."""
    changes: list[BlockChange] = []
    start = 0
    for old in removed:
        best, best_ratio = None, MIN_PAIR_RATIO
        for j in range(start, len(added)):
            matcher = difflib.SequenceMatcher(a=old.words, b=added[j].words, autojunk=False)
            if matcher.real_quick_ratio() < best_ratio or matcher.quick_ratio() < best_ratio:
                continue
            ratio = matcher.ratio()
            if ratio >= best_ratio:
                best, best_ratio = j, ratio
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
    if old.undated == new.undated:
        return "date"
    if old.is_navigation and new.is_navigation:
        return "navigation"
    if old.is_label and new.is_label:
        return "label"
    return "text"


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
