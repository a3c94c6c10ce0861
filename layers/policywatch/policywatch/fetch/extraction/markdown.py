"""Markdown of selected, cleaned elements: headings, paragraphs, lists, tables, links.

Rendering walks the tree with explicit stacks, never by recursion, so a page's nesting
cannot exhaust Python's stack; it checks the extraction budget at every node and counts
the Markdown it makes against the page's text allowance (``policywatch.fetch.extraction.budget``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import cast
from urllib.parse import urljoin, urlsplit, urlunsplit

from bs4 import NavigableString, Tag
from bs4.element import Comment, Doctype, PageElement, ProcessingInstruction

from policywatch.fetch.extraction.budget import ExtractionBudget, TextAllowance

HEADINGS = {f"h{n}": n for n in range(1, 7)}
BLOCKS = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "aside",
    "nav",
    "blockquote",
    "address",
    "figure",
    "figcaption",
    "dl",
    "dt",
    "dd",
    "pre",
    "details",
    "summary",
    "body",
    "html",
    "form",
    "fieldset",
    "center",
}
# Containers whose element children a browser lays out apart (flex rows, stacked spans):
# adjacent words from two such children get a space between them.
LAYOUT = BLOCKS - {"p", "dt", "dd", "pre", "summary", "figcaption", "address", "blockquote"}
# A run of whitespace is one space (source line breaks are whitespace; only <br> breaks a line).
# Runs that are one space already are not matched: replacing each would copy every word of
# the page into a piece of its own (100 MB for a 5 MB paragraph).
WHITESPACE = re.compile(r"[ \t\r\n\f]{2,}|[\t\r\n\f]")
_SKIPPED = (Comment, Doctype, ProcessingInstruction)
_SPACED = BLOCKS | {"tr", "td", "th", "ul", "ol", "table"} | set(HEADINGS)


class Renderer:
    """Markdown rendering of selected roots, within one page's budget."""

    def __init__(
        self, base_url: str | None, filters: set[str], budget: ExtractionBudget, allowance: TextAllowance | None = None
    ) -> None:
        self.base_url = base_url
        self.drop_targets = "drop-link-targets" in filters
        self.drop_query = "drop-query-strings" in filters
        self.budget = budget
        self.allowance = allowance or TextAllowance()

    # Inline content ---------------------------------------------------------------
    def inline(self, node: PageElement) -> str:
        """``node`` as inline text: its words, links as ``[text](target)``, ``<br>`` as a line break."""
        if not isinstance(node, Tag):
            return _leaf(node)
        if node.name == "br":
            return "\n"
        return self._wrap(node, self._children_inline(node))

    def _children_inline(self, node: Tag) -> str:
        """The inline text of ``node``'s children, joined: a post-order walk with one frame per open element."""
        stack = [_Inline(node)]
        while True:
            frame = stack[-1]
            child = next(frame.children, None)
            if child is None:
                stack.pop()
                text = "".join(frame.parts)
                if not stack:
                    return text
                stack[-1].add(self._wrap(frame.node, text), is_element=True)
                continue
            self.budget.check("rendering")
            if isinstance(child, Tag) and child.name != "br":
                stack.append(_Inline(child))
            else:
                frame.add(self.inline(child), is_element=isinstance(child, Tag))

    def _wrap(self, node: Tag, text: str) -> str:
        if node.name == "a":
            return self._link(node, text)
        if node.name == "li":
            return f" • {text} "  # a list inside a table cell: bulleted items on one line
        if node.name in _SPACED:
            return f" {text} "  # a block inside inline content (a list in a table cell) stays a separate word
        return text

    def _link(self, node: Tag, text: str) -> str:
        label = clean(text).replace("\n", " ")
        target = self._target(str(node.get("href", "")).strip())
        if not label or not target:
            return text
        return f"[{label}]({target})"

    def _target(self, href: str) -> str | None:
        if self.drop_targets or not href or href.startswith("#") or href.lower().startswith("javascript:"):
            return None
        try:
            target = urljoin(self.base_url, href) if self.base_url else href
            if self.drop_query:
                parts = urlsplit(target)
                target = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        except ValueError:  # not a URL ("http://[x"): the page's own words stand for it
            target = href
        return target.replace(" ", "%20").replace(")", "%29").replace("(", "%28")

    # Blocks -----------------------------------------------------------------------
    def blocks(self, root: Tag) -> list[str]:
        """The Markdown blocks of ``root`` (itself possibly a heading, a list or a table), in order."""
        out = _Blocks(self.allowance)
        # One frame per open block element: its children still to render and its name.
        stack: list[tuple[Iterator[PageElement], str | None]] = [(iter([root]), None)]
        while stack:
            children, parent = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                out.flush()  # a block's text ends with it
                continue
            self.budget.check("rendering")
            if isinstance(child, _SKIPPED):
                continue
            if isinstance(child, NavigableString):
                out.text(WHITESPACE.sub(" ", str(child)))
                continue
            child = cast(Tag, child)  # a PageElement is a NavigableString or a Tag
            name = child.name
            if name in HEADINGS:
                out.flush()
                text = clean(self._children_inline(child)).replace("\n", " ")
                if text:
                    out.block("#" * HEADINGS[name] + " " + text)
            elif name in ("ul", "ol"):
                out.flush()
                self._list(child, out)
            elif name == "table":
                out.flush()
                table = self._table(child)
                if table:
                    out.block(table)
            elif name == "hr":
                out.flush()
            elif name in BLOCKS or name == "li":
                out.flush()
                stack.append((iter(child.contents), name))
            else:
                out.element(self.inline(child), spaced=parent in LAYOUT)
        return out.blocks

    def _list(self, listing: Tag, out: _Blocks) -> None:
        """Items as ``-`` or ``1.`` lines, a nested list after its item, indented by two spaces a level."""
        # One frame per open list: the list, its remaining items (found when it is reached), its depth.
        stack: list[list] = [[listing, None, 0]]
        while stack:
            frame = stack[-1]
            current, items, depth = frame
            if items is None:
                items = frame[1] = enumerate(current.find_all("li", recursive=False), start=1)
            entry = next(items, None)
            if entry is None:
                stack.pop()
                continue
            self.budget.check("rendering a list")
            index, item = entry
            marker = f"{index}." if current.name == "ol" else "-"
            nested = [c for c in item.children if isinstance(c, Tag) and c.name in ("ul", "ol")]
            for sub in nested:
                sub.extract()
            text = clean(self._children_inline(item)).replace("\n", " ")
            if text:
                out.block("  " * depth + f"{marker} {text}")
            stack.extend([sub, None, depth + 1] for sub in reversed(nested))

    def _table(self, table: Tag) -> str:
        """A Markdown table: the first row is the header, one line per row."""
        rows = []
        for row in table.find_all("tr"):
            self.budget.check("rendering a table")
            if row.find_parent("table") is not table:
                continue  # a nested table's rows belong to its cell
            cells = [
                clean(self._children_inline(c)).replace("\n", " ").replace("|", "\\|")
                for c in row.find_all(["th", "td"], recursive=False)
            ]
            if any(cells):
                rows.append("| " + " | ".join(cells) + " |")
        if not rows:
            return ""
        width = rows[0].count(" | ") + 1
        return "\n".join([rows[0], "|" + " --- |" * width, *rows[1:]])


class _Inline:
    """One element being rendered inline: its children still to come and the pieces so far."""

    __slots__ = ("node", "children", "parts", "last", "previous_was_element", "layout")

    def __init__(self, node: Tag) -> None:
        self.node = node
        self.children = iter(node.contents)
        self.parts: list[str] = []
        self.last = ""  # the last non-empty piece: what a separator looks at
        self.previous_was_element = False
        self.layout = node.name in LAYOUT

    def add(self, piece: str, *, is_element: bool) -> None:
        if is_element and self.previous_was_element and self.layout:
            self._append(_separator(self.last, piece))
        self._append(piece)
        if not is_element or (piece and not piece.isspace()):
            self.previous_was_element = is_element

    def _append(self, piece: str) -> None:
        if piece:
            self.parts.append(piece)
            self.last = piece


class _Blocks:
    """The blocks of a root, and the inline text of the block being written."""

    def __init__(self, allowance: TextAllowance) -> None:
        self.blocks: list[str] = []
        self.allowance = allowance
        self.inline: list[str] = []
        self.last = ""
        self.previous_was_element = False

    def block(self, text: str) -> None:
        self.allowance.add(len(text))
        self.blocks.append(text)

    def text(self, piece: str) -> None:
        self._append(piece)
        self.previous_was_element = False

    def element(self, piece: str, *, spaced: bool) -> None:
        if self.previous_was_element and spaced:
            self._append(_separator(self.last, piece))
        self._append(piece)
        if piece and not piece.isspace():
            self.previous_was_element = True

    def flush(self) -> None:
        text = clean("".join(self.inline))
        self.inline.clear()
        self.last = ""
        self.previous_was_element = False
        if text:
            self.block(text)

    def _append(self, piece: str) -> None:
        if piece:
            self.inline.append(piece)
            self.last = piece


def _leaf(node: PageElement) -> str:
    """A string's words (comments, doctypes and processing instructions have none)."""
    return "" if isinstance(node, _SKIPPED) else WHITESPACE.sub(" ", str(node))


def _separator(before: str, piece: str) -> str:
    """A space between two adjacent laid-out elements when neither side has one."""
    if before and piece and not before[-1].isspace() and not piece[0].isspace():
        return " "
    return ""


def clean(text: str) -> str:
    """Whitespace runs to one space, lines trimmed, blank lines dropped."""
    lines = [WHITESPACE.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)
