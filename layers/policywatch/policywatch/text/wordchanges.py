"""Word-level changes of a modified block: equal, removed and added runs of the reader's text.

The two texts are split into words and matched case-blind with ``SequenceMatcher`` (within the
comparison's delta allowance, ``matching.BudgetedMatcher``). Unchanged stretches are cut to
their first and last words, each run to ``MAX_DELTA_CHARS``, the list to ``MAX_DELTA_SEGMENTS``.

Past the allowance, or for a block over ``DELTA_FULL_CHARS``, the change is shown by its ends:
the words both texts start and end with are equal, the stretch between them one removed and
one added run. A block of a million words is never split into a list of words for that: its
ends are found on the characters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from policywatch.text.matching import Allowance, BudgetedMatcher, Overrun, common_ends, common_length

MAX_DELTA_SEGMENTS = 60
MAX_DELTA_CHARS = 4_000  # one removed or added run (real ones: 900 at most)
DELTA_FULL_CHARS = 200_000  # a block longer than this gets the coarse change at once (real: 5,000)


DELTA_STEPS = 750_000  # word-level changes of one comparison, every modified block together (real: 144,000)


def word_delta(
    old_plain: str, new_plain: str, allowance: Allowance, limit: Callable[[str, str], None]
) -> list[dict[str, str]]:
    """The runs of a modified block's plain texts; ``limit(step, note)`` is told when shown coarsely."""
    if max(len(old_plain), len(new_plain)) > DELTA_FULL_CHARS:
        limit("delta", f"a passage of over {DELTA_FULL_CHARS:,} characters: {_COARSE_DELTA}")
        return _coarse_delta(old_plain, new_plain)
    old_words, new_words = old_plain.split(), new_plain.split()
    a, b = [w.lower() for w in old_words], [w.lower() for w in new_words]
    opcodes: Sequence[tuple[str, int, int, int, int]]
    try:
        opcodes = BudgetedMatcher(a, b, allowance).get_opcodes()
    except Overrun as exc:
        limit("delta", f"word-level changes {exc}: {_COARSE_DELTA}")
        opcodes = _ends_opcodes(a, b)
    segments: list[dict[str, str]] = []
    for op, a1, a2, b1, b2 in opcodes:
        if op == "equal":
            segments.append({"op": "equal", "text": _ellipsis(" ".join(old_words[a1:a2]))})
            continue
        if a2 > a1:
            segments.append({"op": "removed", "text": _cut(" ".join(old_words[a1:a2]))})
        if b2 > b1:
            segments.append({"op": "added", "text": _cut(" ".join(new_words[b1:b2]))})
    if len(segments) > MAX_DELTA_SEGMENTS:
        segments = segments[:MAX_DELTA_SEGMENTS] + [{"op": "equal", "text": "\u2026"}]
    return segments


_COARSE_DELTA = "shown as the stretch between the words both versions share at its ends"


def _ellipsis(text: str, keep: int = 8) -> str:
    """Unchanged words between two changes, shortened to the few either side."""
    parts = text.split()
    if len(parts) <= 2 * keep + 1:
        return _cut(text)
    return _cut(" ".join(parts[:keep])) + " \u2026 " + _cut(" ".join(parts[-keep:]))


def _cut(text: str) -> str:
    return text if len(text) <= MAX_DELTA_CHARS else text[: MAX_DELTA_CHARS - 1] + "\u2026"


def _ends_opcodes(a: list[str], b: list[str]) -> list[tuple[str, int, int, int, int]]:
    """Opcodes of two word lists by their common ends only: equal, one replaced stretch, equal."""
    head, tail = common_ends(a, b)
    opcodes = [("equal", 0, head, 0, head)] if head else []
    if head < len(a) - tail or head < len(b) - tail:
        opcodes.append(("replace", head, len(a) - tail, head, len(b) - tail))
    if tail:
        opcodes.append(("equal", len(a) - tail, len(a), len(b) - tail, len(b)))
    return opcodes


def _coarse_delta(old: str, new: str) -> list[dict[str, str]]:
    """``_ends_opcodes`` on two long texts without splitting them into words (a million words
    take 100 MB as strings): the common ends are found on the characters, then cut back to
    whole words. Letter case counts here."""
    head = _shared_start(old, new)
    tail = _shared_start(old[head:][::-1], new[head:][::-1])
    segments = []
    if old[:head].strip():
        segments.append({"op": "equal", "text": _edge_words(old[:head])})
    if old[head : len(old) - tail].strip():
        segments.append({"op": "removed", "text": _first_words(old[head : len(old) - tail])})
    if new[head : len(new) - tail].strip():
        segments.append({"op": "added", "text": _first_words(new[head : len(new) - tail])})
    if old[len(old) - tail :].strip():
        segments.append({"op": "equal", "text": _edge_words(old[len(old) - tail :])})
    return segments


def _shared_start(a: str, b: str) -> int:
    """Length of the whole words (and spaces) two texts start with."""
    n = common_length(a, b)
    if (n < len(a) and not a[n].isspace()) or (n < len(b) and not b[n].isspace()):
        while n > 0 and not a[n - 1].isspace():  # the word the texts differ in is not shared
            n -= 1
    return n


def _first_words(text: str) -> str:
    """A changed stretch as a delta run: its words, cut at ``MAX_DELTA_CHARS``."""
    shown = " ".join(text[:MAX_DELTA_CHARS].split())
    return _cut(shown + " \u2026") if len(text) > MAX_DELTA_CHARS else shown


def _edge_words(text: str, keep: int = 8) -> str:
    """The first and last ``keep`` words of an unchanged stretch, without splitting all of it."""
    if len(text) <= MAX_DELTA_CHARS:
        return _ellipsis(text)
    first, last = text[:MAX_DELTA_CHARS].split()[:keep], text[-MAX_DELTA_CHARS:].split()[-keep:]
    return _cut(" ".join(first)) + " \u2026 " + _cut(" ".join(last))


def quote_delta(old_plain: str, new_plain: str) -> list[dict[str, str]]:
    """The runs of one quoted sentence pair, within a comparison's whole allowance (as the diff stage shows them)."""
    return word_delta(old_plain, new_plain, Allowance(DELTA_STEPS), lambda step, note: None)
