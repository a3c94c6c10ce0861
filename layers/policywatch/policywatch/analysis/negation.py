"""Negation: whether a "not" (or "never", "no longer"...) before a term still covers it.

A negation covers a term if it comes before it in the sentence and no new clause starts in
between (``SCOPE_END``: ";", ", unless", ", but", ", we", "even if", "and will"...): "We will
not use your Inputs ... to train" is negated; "If you do not opt out, we will use ... to
train" is not. ``negated`` is the rule; ``Scopes`` answers it for every term of one sentence
in about constant time each, with the same answers (tests/unit/analysis/test_negation.py compares them).
"""

from __future__ import annotations

import re
from bisect import bisect_left

# Where a negation's scope ends: a new clause with its own subject or condition.
SCOPE_END = re.compile(
    r";|,\s*(?:unless|but|except|however|and we|we|you|if|when|where|although|though|while|even)\b|"
    r"\b(?:unless|except|however|but|even if)\b|\b(?:and|or)\s+(?:will|may|we|can|shall|must|is|are)\b"
)
NEGATION = re.compile(r"\b(not|never|no longer|won't|don't|doesn't|do not|does not|will not|cannot|can't)\b")


def negated(sentence: str, position: int) -> bool:
    """A negation before ``position`` whose scope reaches it (no new clause in between)."""
    last = None
    for match in NEGATION.finditer(sentence, 0, position):
        last = match
    return last is not None and not SCOPE_END.search(sentence, last.end(), position)


# Longest match of ``NEGATION`` ("no longer"), and of ``SCOPE_END`` besides its whitespace
# (", although"), with room to spare: ``Scopes`` relies on matches being no longer than this.
_MATCH_WINDOW = 24
_SPACE_RUN = re.compile(r"\s{2,}")
_SCOPE_STARTS = re.compile(f"(?=(?:{SCOPE_END.pattern}))")


class Scopes:
    """``negated`` for every position of one sentence, without reading the sentence again each time.

    ``negated`` reads the sentence from its start up to the term, and from the last negation
    up to it: once per term found, quadratic in a long sentence with many. Here the negations
    and the places where a scope ends are found once. Far from the term, a match is the same
    whether the sentence is cut at the term or not (no match is longer than the window); only
    near the term is it read again, cut there, as ``negated`` does: the same answer.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        found = list(NEGATION.finditer(text))
        self.negation_starts = [m.start() for m in found]
        self.negation_ends = [m.end() for m in found]
        self.scope_starts = [m.start() for m in _SCOPE_STARTS.finditer(text)]
        widest = max((m.end() - m.start() for m in _SPACE_RUN.finditer(text)), default=1)
        self.scope_window = _MATCH_WINDOW + widest

    def negated(self, position: int) -> bool:
        text = self.text
        near = max(position - _MATCH_WINDOW, 0)
        k = bisect_left(self.negation_starts, near) - 1  # the last negation well before the term
        last_end = self.negation_ends[k] if k >= 0 else -1
        for match in NEGATION.finditer(text, max(near, last_end), position):
            last_end = match.end()
        if last_end < 0:
            return False
        near = position - self.scope_window
        if last_end < near:
            i = bisect_left(self.scope_starts, last_end)
            if i < len(self.scope_starts) and self.scope_starts[i] < near:
                return False
        return not SCOPE_END.search(text, max(last_end, near), position)
