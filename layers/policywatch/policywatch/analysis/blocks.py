"""A policy version as blocks: headings, paragraphs, list items and table rows.

Versions arrive as Markdown in two dialects: ours (ATX ``#`` headings, ``-`` bullets, blank
lines between items) and Open Terms Archive's (setext headings underlined with ``===`` or
``---``, ``*`` bullets on consecutive lines, escaped ``1\\.``). Both parse to the same blocks.

Each block has three comparison forms, from strict to loose:

- ``norm``: the noise-rule form of ``policywatch.text.noise`` (typography, whitespace, link tokens).
  Blocks are aligned on it; it is what the fingerprint hashes.
- ``words``: the words a reader reads. Markup, link targets, images, section numbers,
  punctuation, case, screen-reader text ("opens in a new window") and keyboard keys rendered
  per browser ("Ctrl" / "⌘") are gone. Equal words mean a formatting change.
- ``undated``: ``words`` with every date replaced by ``<date>``. Equal means only dates changed.

A version is hostile input (issue 11): every pattern here reads a line or a block in linear
time, whatever it holds (floods of "[", "](", "<" or "#", runs of spaces, a megabyte line),
and a long block's words are read in pieces and kept once each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from policywatch.analysis import dates
from policywatch.text.chrome import CHROME, CHROME_MAX_WORDS
from policywatch.text.noise import canonical_url, normalise
from policywatch.text.plain import plain, plain_words

# The closing "#"s and spaces of an ATX heading are stripped in Python (``_atx_title``): as
# ``(.*?)\s*#*\s*$`` the lazy title re-read the rest of the line at every character (cubic
# on a line of "#" or spaces).
_ATX = re.compile(r"^(#{1,6})\s+(.*)$")
_SETEXT = re.compile(r"^(=+|-+)\s*$")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_ITEM = re.compile(r"^(\s*)(?:[-*+\u2022]|\d{1,3}[.)])\s+")
_ROW = re.compile(r"^\s*\|")
_SEPARATOR_CELL = re.compile(r":?-{3,}:?")

# Section numbers at the start of a heading or item: "4.", "4.2", "(a)", "(iv)", "b.", "A.1.",
# "I.2.a.", "D.7": segments of digits, one letter or a roman numeral joined by dots.
# Atomic and possessive: a line of "i.i.i.i…" is read once, not in every way it splits.
_SEGMENT = r"(?>[0-9]{1,3}|[ivxlc]{1,6}|[a-z])"
_NUMBERING = rf"{_SEGMENT}(?:\\?\.{_SEGMENT}){{0,6}}+"
_ENUMERATOR = re.compile(
    rf"^\s*(?:\(?[0-9]{{1,3}}(?:\\?\.[0-9]{{1,3}})*\\?[.)]?|\(?[a-z]\)|\(?[ivx]{{1,5}}\)|{_NUMBERING}\\?[.)])\s+",
    re.I,
)
# In a paragraph only numbering closed by "." or ")" is one ("1\\. Scope", not "30 days").
_PARAGRAPH_ENUMERATOR = re.compile(rf"^\s*\(?{_NUMBERING}\\?[.)]\s+", re.I)
_SENTENCE_END = re.compile(
    r"[.!?:;\u3002\uff01\uff1f\uff1a\uff1b]\s*$"
)  # and the full-width ones of Chinese and Japanese
_LINK_TARGETS = re.compile(r"\]\(([^)\s]+)")
# Possessive: with ``(?:\s*link\s*)+`` the spaces between two links could be split in as many
# ways as they are long, which backtracking tried in turn (exponential in the number of links).
_LINK_ONLY = re.compile(r"!?\[[^\]]*+\]\([^)]*+\)|\[[^\]]*+\]")
_WORDISH = re.compile(r"[^\W_]")
_ANCHOR_ONLY = re.compile(r"^\s*+(?:\[[^\]]*+\]\(#[^)]*+\)\s*+)++$")


# Most blocks of a version are those of the previous one: their comparison forms are
# remembered by text (blocks up to ``MEMO_CHARS``, the most recent ``MEMO_BLOCKS`` of them),
# so comparing a version with the next reads each unchanged block once.
MEMO_CHARS = 20_000
MEMO_BLOCKS = 1 << 15


@lru_cache(maxsize=MEMO_BLOCKS)
def _norm(text: str) -> str:
    return normalise(text)


@lru_cache(maxsize=MEMO_BLOCKS)
def _plain(text: str) -> str:
    return plain(text)


@lru_cache(maxsize=MEMO_BLOCKS)
def _words(plain_text: str, numbered: bool) -> tuple[str, ...]:
    """A block's words; a heading's or item's without its leading section number, and a
    paragraph's without one closed by "." or ")" (renumbered sections are not reworded)."""
    return plain_words((_ENUMERATOR if numbered else _PARAGRAPH_ENUMERATOR).sub("", plain_text))


@dataclass(eq=False)
class Block:
    kind: str  # heading | paragraph | item | row
    text: str  # as in the version
    path: str  # heading path, "Privacy Policy > 4. Rights and Choices"
    level: int = 0  # heading level, or list nesting depth

    @cached_property
    def norm(self) -> str:
        return _norm(self.text) if len(self.text) <= MEMO_CHARS else normalise(self.text)

    @cached_property
    def plain(self) -> str:
        return _plain(self.text) if len(self.text) <= MEMO_CHARS else plain(self.text)

    @cached_property
    def words(self) -> tuple[str, ...]:
        numbered = self.kind in ("heading", "item")
        return (
            _words(self.plain, numbered) if len(self.plain) <= MEMO_CHARS else _words.__wrapped__(self.plain, numbered)
        )

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

    @cached_property
    def is_links(self) -> bool:
        """Nothing but links (and separators): a menu or footer entry, a banner, a breadcrumb."""
        if "](" not in self.text and "]()" not in self.text:
            return False
        body = _ITEM.sub("", self.text, count=1)
        rest = _LINK_ONLY.sub(" ", body)
        if not _WORDISH.search(rest):
            return True
        # A footer row of links with a button among them ("Your Privacy Choices").
        links = len(_LINK_ONLY.findall(body))
        return links >= 2 and len(plain_words(rest)) <= 3 and not _SENTENCE_END.search(rest.strip())

    @cached_property
    def is_chrome(self) -> bool:
        """Page chrome whatever its place: a consent banner and its buttons, a docs widget
        ("Was this page helpful?"), a relative-date counter ("Updated 3 days ago"), an
        error notice ("This page isn't available", "An unexpected error has occurred")."""
        if len(self.words) > CHROME_MAX_WORDS:
            return False
        return bool(CHROME.search(self.plain.lower()))

    @property
    def is_navigation(self) -> bool:
        """An in-page table-of-contents entry: nothing but links to anchors of the same page."""
        body = _ITEM.sub("", self.text, count=1)
        return bool(_ANCHOR_ONLY.match(body))


def parse(text: str) -> list[Block]:
    """Blocks of a Markdown version, each with the heading path it sits under.

    The last few texts parsed are remembered: a version compared with its predecessor is
    then compared with its successor (a replay, a re-analysis), and its blocks, with the
    comparison forms they computed, serve both. The list is a copy; the blocks are shared."""
    return list(_parsed(text))


@lru_cache(maxsize=4)
def _parsed(text: str) -> tuple[Block, ...]:
    return tuple(_parse(text))


def _parse(text: str) -> list[Block]:
    blocks: list[Block] = []
    path: list[tuple[int, str]] = []
    where = ""  # the heading path as a string, made once per heading and shared by its blocks
    pending: list[str] = []  # lines of the paragraph or item being read
    pending_kind = "paragraph"
    pending_level = 0

    def flush() -> None:
        nonlocal pending, pending_kind
        if pending:
            body = "\n".join(pending).strip()
            if body:
                blocks.append(Block(pending_kind, body, where, pending_level))
        pending = []
        pending_kind = "paragraph"

    def heading(level: int, title: str) -> None:
        nonlocal path, where
        title = title.strip()
        path = [(lvl, t) for lvl, t in path if lvl < level] + [(level, plain(title))]
        where = _path(path)
        blocks.append(Block("heading", title, where, level))

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
            heading(len(atx.group(1)), _atx_title(atx.group(2)))
            continue
        if _ROW.match(line):
            flush()
            if not _is_table_separator(line):
                blocks.append(Block("row", line.strip(), where))
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


def _atx_title(rest: str) -> str:
    """An ATX heading's title: the rest of its line without the closing "#"s and spaces."""
    return rest.rstrip().rstrip("#").rstrip()


def _is_table_separator(line: str) -> bool:
    """The row under a table's header, ``| --- | :---: |``: every cell three dashes or more."""
    cells = line.strip()
    cells = cells[1:] if cells.startswith("|") else cells
    cells = cells[:-1] if cells.endswith("|") else cells
    return all(_SEPARATOR_CELL.fullmatch(cell.strip()) for cell in cells.split("|"))


_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)]*\s+(?=[\"'\u201c\u2018(*_\[]*[A-Z0-9])")
_ABBREVIATIONS = re.compile(r"\b(?:e\.g|i\.e|etc|inc|ltd|co|no|art|sec|u\.s|vs|cf|para)\.$", re.I)


# Enough of a sentence's end to see an abbreviation and the character before it: looking at
# the whole sentence, which grows with each "Inc." it absorbs, was quadratic.
_ABBREVIATION_TAIL = 16


def sentences(text: str) -> list[str]:
    """A block's sentences (abbreviations such as "e.g." and "Inc." do not end one)."""
    out: list[list[str]] = []  # each sentence as its pieces, joined once at the end
    tail = ""  # the end of the last sentence
    for piece in _SENTENCE_SPLIT.split(text.strip()):
        if out and _ABBREVIATIONS.search(tail):
            out[-1].append(piece)
            tail = (tail + " " + piece[-_ABBREVIATION_TAIL:])[-_ABBREVIATION_TAIL:]
        elif piece:
            out.append([piece])
            tail = piece[-_ABBREVIATION_TAIL:]
    return [" ".join(pieces) for pieces in out]
