"""Diff stage rules: compare two versions block by block and classify the change.

A block is a paragraph, heading, list item or table row of the extracted Markdown. Blocks
are compared in their normalised form, so typography and whitespace never count.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from policywatch.extract import normalise

MAX_QUOTE_CHARS = 600


@dataclass(frozen=True)
class BlockChange:
    op: str  # added | removed | modified
    heading: str
    before: str
    after: str

    def to_dict(self) -> dict[str, str]:
        return {"op": self.op, "heading": self.heading, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class Comparison:
    kind: str  # substantive | cosmetic | none
    blocks: list[BlockChange] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = {"added": 0, "removed": 0, "modified": 0}
        for block in self.blocks:
            counts[block.op] += 1
        return counts


def split_blocks(text: str) -> list[str]:
    return [block.strip() for block in text.split("\n\n") if block.strip()]


def _headings(blocks: list[str]) -> list[str]:
    """The heading path each block sits under ('Privacy Policy > 4. How we use data')."""
    path: list[tuple[int, str]] = []
    result = []
    for block in blocks:
        if block.startswith("#"):
            level = len(block) - len(block.lstrip("#"))
            path = [(lvl, title) for lvl, title in path if lvl < level] + [(level, block.lstrip("# ").strip())]
        result.append(" > ".join(title for _, title in path))
    return result


def _quote(text: str) -> str:
    return text if len(text) <= MAX_QUOTE_CHARS else text[: MAX_QUOTE_CHARS - 1] + "\u2026"


def compare(old_text: str, new_text: str) -> Comparison:
    """Blocks added, removed and modified between two versions."""
    if old_text == new_text:
        return Comparison("none")
    old_blocks, new_blocks = split_blocks(old_text), split_blocks(new_text)
    old_norm = [normalise(b) for b in old_blocks]
    new_norm = [normalise(b) for b in new_blocks]
    if old_norm == new_norm:
        return Comparison("cosmetic")
    new_headings = _headings(new_blocks)
    old_headings = _headings(old_blocks)
    changes: list[BlockChange] = []
    matcher = difflib.SequenceMatcher(a=old_norm, b=new_norm, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            continue
        pairs = max(a2 - a1, b2 - b1)
        for offset in range(pairs):
            i, j = a1 + offset, b1 + offset
            before = old_blocks[i] if i < a2 else ""
            after = new_blocks[j] if j < b2 else ""
            heading = new_headings[j] if j < b2 else old_headings[i]
            kind = "modified" if before and after else ("added" if after else "removed")
            changes.append(BlockChange(kind, heading, _quote(before), _quote(after)))
    return Comparison("substantive", changes)


def summarise(document_type: str, comparison: Comparison) -> str:
    """One plain line: what changed and where."""
    counts = comparison.counts
    parts = [
        f"{n} {label}"
        for label, n in (("modified", counts["modified"]), ("added", counts["added"]), ("removed", counts["removed"]))
        if n
    ]
    sections = sorted({b.heading.split(" > ")[-1] for b in comparison.blocks if b.heading})
    where = f" (in {', '.join(sections[:3])}{', ...' if len(sections) > 3 else ''})" if sections else ""
    noun = "passage" if sum(counts.values()) == 1 else "passages"
    return f"{document_type}: {', '.join(parts)} {noun}{where}."
