"""Extraction stage: cut the policy text out of a page and render it as Markdown.

The Markdown keeps what a reader needs to cite a clause (headings, paragraphs, list items,
table rows, link text) and nothing of the page's machinery (scripts, styles, hidden nodes).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment, Doctype, ProcessingInstruction

EXTRACTOR_VERSION = "1"

_DROP = ("script", "style", "noscript", "svg", "template", "iframe", "object", "canvas", "head", "form", "button")
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = {
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
}
_WS = re.compile(r"[ \t\r\n\f]+")  # source line breaks are whitespace; only <br> breaks a line
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


class ExtractionError(Exception):
    """The page was fetched but holds no usable policy text; ``kind`` names the failure."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


def extract(html: bytes | str, select: Sequence[str], remove: Sequence[str] = ()) -> str:
    """Markdown of the elements matched by ``select`` minus ``remove``, in document order."""
    soup = BeautifulSoup(html, "html.parser")
    for name in _DROP:
        for node in soup.find_all(name):
            node.decompose()
    for node in soup.find_all(_is_hidden):
        node.decompose()
    for selector in remove:
        for node in _select(soup, selector):
            node.decompose()
    roots = _matched_roots(soup, select)
    if not roots:
        raise ExtractionError("selector-matched-nothing", f"no element matches {list(select)!r}")
    blocks: list[str] = []
    for root in roots:
        blocks.extend(_render_blocks(root))
    return "\n\n".join(blocks).strip() + "\n"


def _select(soup: BeautifulSoup, selector: str) -> list[Tag]:
    try:
        return soup.select(selector)
    except Exception as exc:  # soupsieve raises its own SelectorSyntaxError
        raise ExtractionError("invalid-selector", f"{selector!r}: {exc}") from None


def _matched_roots(soup: BeautifulSoup, select: Sequence[str]) -> list[Tag]:
    """Matches of all selectors, in document order, without nesting one inside another."""
    matched: list[Tag] = []
    for selector in select:
        matched.extend(_select(soup, selector))
    ids = {id(node) for node in matched}
    outermost = [n for n in matched if not any(id(p) in ids for p in n.parents)]
    order = {id(node): i for i, node in enumerate(soup.find_all(True))}
    unique = {id(n): n for n in outermost}
    return sorted(unique.values(), key=lambda n: order.get(id(n), 0))


def _is_hidden(tag: Tag) -> bool:
    if not isinstance(tag, Tag) or tag.attrs is None:
        return False
    if tag.has_attr("hidden") or tag.get("aria-hidden") == "true":
        return True
    style = tag.get("style")
    return bool(style and _HIDDEN_STYLE.search(str(style)))


def _inline_text(node: Tag | NavigableString) -> str:
    if isinstance(node, (Comment, Doctype, ProcessingInstruction)):
        return ""
    if isinstance(node, NavigableString):
        return _WS.sub(" ", str(node))
    if node.name == "br":
        return "\n"
    return "".join(_inline_text(child) for child in node.children)


def _clean(text: str) -> str:
    lines = [_WS.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def _render_blocks(root: Tag) -> list[str]:
    blocks: list[str] = []
    inline: list[str] = []

    def flush() -> None:
        text = _clean("".join(inline))
        inline.clear()
        if text:
            blocks.append(text)

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, (Comment, Doctype, ProcessingInstruction)):
                continue
            if isinstance(child, NavigableString):
                inline.append(_WS.sub(" ", str(child)))
                continue
            name = child.name
            if name in _HEADINGS:
                flush()
                text = _clean(_inline_text(child)).replace("\n", " ")
                if text:
                    blocks.append("#" * _HEADINGS[name] + " " + text)
            elif name in ("ul", "ol"):
                flush()
                for index, item in enumerate(child.find_all("li", recursive=False), start=1):
                    marker = f"{index}." if name == "ol" else "-"
                    _render_item(item, marker, 0, blocks)
            elif name == "table":
                flush()
                blocks.extend(_render_table(child))
            elif name == "hr":
                flush()
            elif name in _BLOCKS or name == "li":
                flush()
                walk(child)
                flush()
            else:
                inline.append(_inline_text(child))

    walk(root)
    flush()
    return blocks


def _render_item(item: Tag, marker: str, depth: int, blocks: list[str]) -> None:
    nested = [c for c in item.children if isinstance(c, Tag) and c.name in ("ul", "ol")]
    for sub in nested:
        sub.extract()
    text = _clean(_inline_text(item)).replace("\n", " ")
    if text:
        blocks.append("  " * depth + f"{marker} {text}")
    for sub in nested:
        for index, child in enumerate(sub.find_all("li", recursive=False), start=1):
            _render_item(child, f"{index}." if sub.name == "ol" else "-", depth + 1, blocks)


def _render_table(table: Tag) -> list[str]:
    rows = []
    for row in table.find_all("tr"):
        cells = [_clean(_inline_text(c)).replace("\n", " ").replace("|", "\\|") for c in row.find_all(["th", "td"])]
        if any(cells):
            rows.append("| " + " | ".join(cells) + " |")
    return rows


_TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\u200b": "",
        "\ufeff": "",
    }
)


def normalise(text: str) -> str:
    """The comparison form of a text: typography and whitespace variants folded away."""
    text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHY)
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def fingerprint(text: str) -> str:
    """SHA-256 of the normalised text: equal fingerprints mean no change worth a version."""
    return hashlib.sha256(normalise(text).encode()).hexdigest()


def check_text(text: str, *, min_chars: int, previous_chars: int | None = None) -> None:
    """Refuse text that cannot be the policy: too short, or collapsed against the last version."""
    size = len(normalise(text))
    if size < min_chars:
        raise ExtractionError("text-too-short", f"{size} characters, below the minimum of {min_chars}")
    if previous_chars and size < previous_chars * 0.2:
        raise ExtractionError("text-collapsed", f"{size} characters against {previous_chars} in the previous version")
