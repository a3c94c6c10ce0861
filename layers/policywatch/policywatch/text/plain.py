"""The text a reader reads: a Markdown passage without its markup, and its words.

Shared by the analysis (which compares words) and the messages (which quote them). Every
pattern here reads a text in linear time, whatever it holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from policywatch.text.noise import LONG_LINE, single_spaced, typography

_BULLET = re.compile(r"^\s*[-*+\u2022]\s+")
# Markup that carries no words: ``![alt](src)``, ``[text](target)``, ``<tag ...>``. The bracket
# text is read possessively and the rest is optional, so an opening that leads nowhere is
# consumed (and kept) in one pass: every opening inside it would reach the same "]" and fail
# too. The text is cut after its last ")" (or ">") first, past which nothing can close.
_IMAGE = re.compile(r"!\[[^\]]*+(\]\([^)]*\))?")
_LINK = re.compile(r"\[([^\]]*+)(\]\([^)]*\))?")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
# Text that pages render for screen readers or per browser, not part of the policy.
_ASSISTIVE = re.compile(
    r"\(?\b(?:link )?opens? in (?:a )?new (?:window|tab)\b\)?|\bexternal link\b|\bcopy link\b|"
    r"\blink to this (?:heading|section)\b|\bback to top\b|\bskip to (?:main )?content\b",
    re.I,
)
_ASSISTIVE_HINTS = ("new window", "new tab", "external link", "copy link", "link to this", "back to top", "skip to")
# Keys as browsers render them ("Ctrl", "⌘"); matched on lower-case text.
_KEYS = re.compile(r"(?:\b(?:ctrl|control|cmd|command|option|alt|shift)\b|[\u2318\u2325\u21e7\u2303])\s*\+?\s*")
_KEY_HINTS = ("ctrl", "control", "cmd", "command", "option", "alt", "shift", "\u2318", "\u2325", "\u21e7", "\u2303")
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")

_EMPHASIS = re.compile(r"\*\*|__|\*|(?<!\w)_|_(?!\w)|`")


def _closed_sub(
    pattern: re.Pattern[str], replacement: str | Callable[[re.Match[str]], str], text: str, closer: str
) -> str:
    """``pattern.sub`` on the part of ``text`` up to its last ``closer``: no match reaches past it."""
    end = text.rfind(closer) + 1
    if not end:
        return text
    return pattern.sub(replacement, text[:end]) + text[end:]


def _image_space(match: re.Match[str]) -> str:
    return " " if match.group(1) else match.group(0)


def _link_text(match: re.Match[str]) -> str:
    return match.group(1) if match.group(2) else match.group(0)


def plain(text: str) -> str:
    """The text a reader reads, on one line: Markdown markup, link targets and images gone,
    typography and whitespace folded."""
    if "](" in text:
        text = _closed_sub(_LINK, _link_text, _closed_sub(_IMAGE, _image_space, text, ")"), ")")
    if "<" in text:
        text = _closed_sub(_HTML_TAG, " ", text, ">")
    text = text.replace("\\", "")
    if "*" in text or "_" in text or "`" in text:  # a search in C, ten times quicker than the regex
        text = _EMPHASIS.sub("", text)
    text = text.replace("|", " ")
    text = typography(text)
    lowered = text.lower()
    if any(hint in lowered for hint in _ASSISTIVE_HINTS):
        text = _ASSISTIVE.sub(" ", text)
    return _BULLET.sub("", single_spaced(text), count=1)


def words(text: str) -> tuple[str, ...]:
    return plain_words(plain(text))


def plain_words(plain_text: str) -> tuple[str, ...]:
    """The words of a text already made plain."""
    if len(plain_text) <= LONG_LINE:
        return tuple(WORD.findall(_keys(plain_text.lower())))
    # A long text is read in pieces cut at spaces (no word or key spans one), and each word is
    # kept once: a million words of a few thousand distinct ones take 8 MB, not 60.
    seen: dict[str, str] = {}
    found: list[str] = []
    start = 0
    while start < len(plain_text):
        end = plain_text.find(" ", start + LONG_LINE)
        end = len(plain_text) if end < 0 else end
        piece = WORD.findall(_keys(plain_text[start:end].lower()))
        found.extend(map(seen.setdefault, piece, piece))
        start = end
    return tuple(found)


def _keys(lowered: str) -> str:
    """Keys as browsers render them, as the one word "key"."""
    if any(key in lowered for key in _KEY_HINTS):
        return _KEYS.sub(" key ", lowered)
    return lowered
