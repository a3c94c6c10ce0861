"""A policy version as blocks: headings, paragraphs, list items and table rows.

Versions arrive as Markdown in two dialects: ours (ATX ``#`` headings, ``-`` bullets, blank
lines between items) and Open Terms Archive's (setext headings underlined with ``===`` or
``---``, ``*`` bullets on consecutive lines, escaped ``1\\.``). Both parse to the same blocks.

Each block has three comparison forms, from strict to loose:

- ``norm``: the noise-rule form of ``policywatch.noise`` (typography, whitespace, link tokens).
  Blocks are aligned on it; it is what the fingerprint hashes.
- ``words``: the words a reader reads. Markup, link targets, images, section numbers,
  punctuation, case, screen-reader text ("opens in a new window") and keyboard keys rendered
  per browser ("Ctrl" / "⌘") are gone. Equal words mean a formatting change.
- ``undated``: ``words`` with every date replaced by ``<date>``. Equal means only dates changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from policywatch import dates
from policywatch.noise import canonical_url, normalise, typography

_ATX = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^(=+|-+)\s*$")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_ITEM = re.compile(r"^(\s*)(?:[-*+\u2022]|\d{1,3}[.)])\s+")
_BULLET = re.compile(r"^\s*[-*+\u2022]\s+")
_ROW = re.compile(r"^\s*\|")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")

# Markup that carries no words.
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)[^)]*\)")
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
_ENUMERATOR = re.compile(r"^\s*(?:\(?[0-9]{1,3}(?:\\?\.[0-9]{1,3})*\\?[.)]?|\(?[a-z]\)|\(?[ivx]{1,5}\))\s+", re.I)
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_SENTENCE_END = re.compile(r"[.!?:;]\s*$")
_LINK_TARGETS = re.compile(r"\]\(([^)\s]+)")
_ANCHOR_ONLY = re.compile(r"^(?:\s*\[[^\]]*\]\(#[^)]*\)\s*)+$")


_EMPHASIS = re.compile(r"\*\*|__|\*|(?<!\w)_|_(?!\w)|`")


def plain(text: str) -> str:
    """The text a reader reads, on one line: Markdown markup, link targets and images gone,
    typography and whitespace folded."""
    if "](" in text:
        text = _LINK.sub(r"\1", _IMAGE.sub(" ", text))
    if "<" in text:
        text = _HTML_TAG.sub(" ", text)
    text = _EMPHASIS.sub("", text.replace("\\", "")).replace("|", " ")
    text = typography(text)
    lowered = text.lower()
    if any(hint in lowered for hint in _ASSISTIVE_HINTS):
        text = _ASSISTIVE.sub(" ", text)
    return _BULLET.sub("", " ".join(text.split()), count=1)


def words(text: str) -> tuple[str, ...]:
    return plain_words(plain(text))


def plain_words(plain_text: str) -> tuple[str, ...]:
    """The words of a text already made plain."""
    return tuple(_WORD.findall(_KEYS.sub(" key ", plain_text.lower())))


@dataclass(eq=False)
class Block:
    kind: str  # heading | paragraph | item | row
    text: str  # as in the version
    path: str  # heading path, "Privacy Policy > 4. Rights and Choices"
    level: int = 0  # heading level, or list nesting depth

    @cached_property
    def norm(self) -> str:
        return normalise(self.text)

    @cached_property
    def plain(self) -> str:
        return plain(self.text)

    @cached_property
    def words(self) -> tuple[str, ...]:
        if self.kind in ("heading", "item"):
            return plain_words(_ENUMERATOR.sub("", self.plain))  # renumbered sections are not reworded
        return plain_words(self.plain)

    @cached_property
    def undated(self) -> tuple[str, ...]:
        return plain_words(dates.mask(self.plain))

    @cached_property
    def link_targets(self) -> tuple[str, ...]:
        return tuple(canonical_url(url) for url in _LINK_TARGETS.findall(self.text))

    @property
    def is_label(self) -> bool:
        """Page chrome: a language picker, "Table of contents", a page title line, a lone link word.

        A short paragraph that is not a sentence. Headings are not labels.
        """
        if self.kind != "paragraph":
            return False
        return 0 < len(self.words) <= 5 and not _SENTENCE_END.search(self.plain)

    @property
    def is_navigation(self) -> bool:
        """An in-page table-of-contents entry: nothing but links to anchors of the same page."""
        body = _ITEM.sub("", self.text, count=1)
        return bool(_ANCHOR_ONLY.match(body))


def parse(text: str) -> list[Block]:
    """Blocks of a Markdown version, each with the heading path it sits under."""
    blocks: list[Block] = []
    path: list[tuple[int, str]] = []
    pending: list[str] = []  # lines of the paragraph or item being read
    pending_kind = "paragraph"
    pending_level = 0

    def flush() -> None:
        nonlocal pending, pending_kind
        if pending:
            body = "\n".join(pending).strip()
            if body:
                blocks.append(Block(pending_kind, body, _path(path), pending_level))
        pending = []
        pending_kind = "paragraph"

    def heading(level: int, title: str) -> None:
        nonlocal path
        title = title.strip()
        path = [(lvl, t) for lvl, t in path if lvl < level] + [(level, plain(title))]
        blocks.append(Block("heading", title, _path(path), level))

    for line in text.splitlines():
        if not line.strip():
            flush()
            continue
        setext = _SETEXT.match(line)
        if setext and pending_kind == "paragraph" and len(pending) == 1:
            title = pending[0]
            pending = []
            heading(1 if setext.group(1)[0] == "=" else 2, title)
            continue
        if _RULE.match(line):
            flush()  # a horizontal rule carries no words
            continue
        atx = _ATX.match(line)
        if atx:
            flush()
            heading(len(atx.group(1)), atx.group(2))
            continue
        if _ROW.match(line):
            flush()
            if not _TABLE_SEPARATOR.match(line):
                blocks.append(Block("row", line.strip(), _path(path)))
            continue
        item = _ITEM.match(line)
        if item:
            flush()
            pending_kind, pending_level = "item", len(item.group(1).expandtabs(4)) // 2
        pending.append(line.strip())
    flush()
    return blocks


def _path(path: list[tuple[int, str]]) -> str:
    return " > ".join(title for _, title in path)


_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)]*\s+(?=[\"'\u201c\u2018(*_\[]*[A-Z0-9])")
_ABBREVIATIONS = re.compile(r"\b(?:e\.g|i\.e|etc|inc|ltd|co|no|art|sec|u\.s|vs|cf|para)\.$", re.I)


def sentences(text: str) -> list[str]:
    """A block's sentences (abbreviations such as "e.g." and "Inc." do not end one)."""
    out: list[str] = []
    for piece in _SENTENCE_SPLIT.split(text.strip()):
        if out and _ABBREVIATIONS.search(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        elif piece:
            out.append(piece)
    return out
