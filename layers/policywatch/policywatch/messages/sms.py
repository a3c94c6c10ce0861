"""The GSM 03.38 arithmetic that keeps an SMS alert within two segments.

A message in the GSM 7-bit default alphabet takes 160 characters in one segment and 153 per
segment once concatenated (the rest carries the concatenation header); the extension table
characters take two. One character outside the alphabet makes the whole message UCS-2: 70
UTF-16 units, 67 concatenated. Carriers never split an escape pair or a surrogate pair across
segments, so counting packs characters greedily rather than dividing.
"""

from __future__ import annotations

from collections.abc import Callable

from policywatch.core.errors import InternalError

MAX_SEGMENTS = 2

# GSM 03.38 default alphabet, in table order (0x00-0x7F), without the escape code 0x1B.
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = frozenset("^{}\\[~]|€\f")

# Typography that has a GSM-7 equivalent: one curly quote would otherwise make the whole
# message UCS-2 and cut what fits in two segments from 306 characters to 134.
_TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u2022": "-",
    }
)


def is_gsm(text: str) -> bool:
    """Whether ``text`` can be sent in the GSM 7-bit alphabet (with its extension table)."""
    return all(ch in _GSM_BASIC or ch in _GSM_EXTENSION for ch in text)


def _pack(units: list[int], single: int, concatenated: int) -> int:
    if sum(units) <= single:
        return 1
    count, used = 1, 0
    for size in units:
        if used + size > concatenated:
            count, used = count + 1, 0
        used += size
    return count


def segments(text: str) -> int:
    """How many SMS segments ``text`` takes (an empty message still takes one)."""
    if is_gsm(text):
        return _pack([2 if ch in _GSM_EXTENSION else 1 for ch in text], 160, 153)
    return _pack([2 if ord(ch) > 0xFFFF else 1 for ch in text], 70, 67)


def fold(text: str) -> str:
    """Typographic punctuation replaced by its GSM-7 equivalent, whitespace collapsed."""
    return " ".join(text.translate(_TYPOGRAPHY).split())


def fit(head: str, body: str, tail: str = "") -> str:
    """``head + body + tail`` within MAX_SEGMENTS; ``tail`` (a link) is never cut.

    The body is shortened at a word with an ellipsis, or dropped; then the head likewise.
    """
    whole = head + body + tail
    if segments(whole) <= MAX_SEGMENTS:
        return whole
    for shortened in (_longest(lambda part: head + part + tail, body), _longest(lambda part: part + tail, head)):
        if shortened is not None:
            return shortened
    if tail.strip() and segments(tail.strip()) <= MAX_SEGMENTS:
        return tail.strip()
    raise InternalError(f"the link alone takes more than {MAX_SEGMENTS} SMS segments")


def _longest(compose: Callable[[str], str], text: str) -> str | None:
    """``compose(text shortened)`` for the longest shortening of ``text`` that fits, or None.

    Segments only grow with the length kept, so a binary search finds it.
    """
    best, low, high = None, 1, len(text) - 1
    while low <= high:
        keep = (low + high) // 2
        part = _cut(text, keep)
        # "..." keeps a GSM message GSM; "\u2026" is one unit in a message that is UCS-2 anyway.
        candidate = compose(part + ("..." if is_gsm(compose(part)) else "\u2026"))
        if part and segments(candidate) <= MAX_SEGMENTS:
            best, low = candidate, keep + 1
        else:
            high = keep - 1
    return best


def _cut(text: str, keep: int) -> str:
    cut = text[:keep]
    if not text[keep].isspace() and cut.rfind(" ") > keep // 2:  # back to a word boundary when one is near
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:.-")
