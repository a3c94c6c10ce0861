"""PDF policies as Markdown-ish text: paragraphs of every page, in order.

pypdf's layout extraction keeps vertical gaps as blank lines, which is what separates
paragraphs here. Lines are cleaned (whitespace collapsed, ligatures expanded, words
hyphenated across a line break rejoined), lines repeated at the top or bottom of every page
(headers, footers, "Page 3 of 9") are dropped once the document has three pages or more, and
the lines of a paragraph are joined with spaces, except list items, which keep their own line.

A PDF is held to its budget (``policywatch.fetch.extraction.budget``): its pages and the content they draw are
counted before any text is extracted, and the clock and the text are checked page by page.
"""

from __future__ import annotations

import io
import logging
import re

from pypdf import PageObject, PasswordType, PdfReader
from pypdf._text_extraction._layout_mode import _fixed_width_page as _layout
from pypdf.generic import ArrayObject, StreamObject

from policywatch.fetch.extraction.budget import (
    MAX_PDF_CONTENT,
    MAX_PDF_PAGE_CONTENT,
    MAX_PDF_PAGES,
    PDF_SECONDS,
    ExtractionBudget,
    TextAllowance,
    error,
    extraction_slot,
)
from policywatch.fetch.extraction.checks import ExtractionError

_EDGE_LINES = 3  # lines at the top and at the bottom of a page that may be header or footer
_MIN_PAGES_FOR_EDGES = 3
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"})
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\ufeff\x00"))
_BULLET = re.compile(r"^[\u2022\u2023\u25aa\u25cf\u25e6\u2043\u2219\u00b7\uf0b7\u2013*-]\s+")
_LIST_ITEM = re.compile(r"^(?:- |\d{1,3}[.)] |\(?[a-z]\) |\(?[ivx]{1,5}\) )")
_HYPHENATED = re.compile(r"(?<=[^\W\d_])-$")  # a letter, then a hyphen ending the line
_DIGITS = re.compile(r"\d+")
_ENDS_SENTENCE = re.compile(r"[.:;!?)\]\"'\u201d\u2019]$")

logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed-but-readable files warn on every page
# pypdf's layout mode pads a gap with up to 10,000 spaces and 1,000 blank lines: text drawn far
# off the page makes 6 MB of spaces out of a 28 KB page. Runs of whitespace and of blank lines
# fold to one here (_page_lines), so the padding only costs memory: gaps are cut at 1,000
# columns (wider than any page; a narrower cut would shift later text on the line) and one line.
_layout.WHITESPACE_LIMIT = 1_000
_layout.NEWLINE_LIMIT = 1


def pdf_to_markdown(data: bytes, *, deadline: float | None = None) -> str:
    """Text of every page of the PDF ``data``, as paragraphs separated by blank lines.

    Raises ``ExtractionError("unreadable-pdf", ...)`` for corrupt or password-protected files,
    ``ExtractionError("pdf-without-text", ...)`` when no page has text (a scan), and
    ``too-large`` / ``too-slow`` past the budget (which ends at ``deadline`` if that is sooner).
    """
    with extraction_slot(deadline):
        pages = _pages(data, ExtractionBudget(PDF_SECONDS, deadline=deadline))
        paragraphs = _join_pages(_drop_running_lines(pages))
        if not _has_text(paragraphs):  # every line was a "header": keep them rather than nothing
            paragraphs = _join_pages(pages)
    if not _has_text(paragraphs):
        raise error("pdf-without-text", f"{len(pages)} page(s) and no extractable text (a scan needs OCR)")
    return "\n\n".join(paragraphs) + "\n"


def _has_text(paragraphs: list[str]) -> bool:
    return any(ch.isalnum() for p in paragraphs for ch in p)


def _pages(data: bytes, budget: ExtractionBudget) -> list[list[str]]:
    """The cleaned lines of every page (see ``_page_lines``)."""
    try:
        reader = PdfReader(io.BytesIO(data))
        locked = reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED
    except Exception as exc:
        raise _unreadable(exc) from None
    if locked:
        raise error("unreadable-pdf", "the PDF is encrypted and needs a password")
    try:
        pages = list(reader.pages)
        _check_size(pages)
        allowance = TextAllowance()
        result = []
        for number, page in enumerate(pages, start=1):
            budget.check(f"reading page {number} of {len(pages)}")
            lines = _page_lines(_page_text(page, budget, allowance))
            allowance.add(sum(len(line) for line in lines))
            result.append(lines)
    except ExtractionError:
        raise
    except Exception as exc:
        raise _unreadable(exc) from None
    return result


def _check_size(pages: list[PageObject]) -> None:
    """Refuse a PDF with too many pages, or whose pages draw too much content, before reading any."""
    if len(pages) > MAX_PDF_PAGES:
        raise error("too-large", f"the PDF has {len(pages):,} pages; the limit is {MAX_PDF_PAGES:,}")
    total = 0
    for number, page in enumerate(pages, start=1):
        size = _content_size(page)
        if size > MAX_PDF_PAGE_CONTENT:
            raise error(
                "too-large",
                f"page {number} draws {size // 1024:,} KB of content; the limit is "
                f"{MAX_PDF_PAGE_CONTENT // 1024:,} KB a page",
            )
        total += size
        if total > MAX_PDF_CONTENT:
            raise error(
                "too-large",
                f"its first {number:,} pages draw {total // 1024:,} KB of content (a stream counts on "
                f"every page that draws it); the limit is {MAX_PDF_CONTENT // 1024:,} KB",
            )


def _content_size(page: PageObject) -> int:
    """Bytes of content stream the page draws, decompressed (pypdf keeps them for the extraction)."""
    try:
        contents = page.get("/Contents")
        contents = contents.get_object() if contents is not None else None
        streams = contents if isinstance(contents, ArrayObject) else [contents]
        return sum(
            len(s.get_data())
            for s in (part.get_object() for part in streams if part is not None)
            if isinstance(s, StreamObject)
        )
    except Exception:  # an unreadable stream: the extraction reports what it makes of it
        return 0


def _page_text(page: PageObject, budget: ExtractionBudget, allowance: TextAllowance) -> str:
    try:
        return page.extract_text(extraction_mode="layout")
    except Exception:  # layout mode is stricter about fonts than plain mode
        # Plain mode follows form XObjects, so its work is not bounded by the page's own
        # content: the budget is checked at every operator, the text counted as it comes.
        page_allowance = TextAllowance(allowance.limit - allowance.used)
        return page.extract_text(
            visitor_operand_before=lambda *_: budget.check("reading a page"),
            visitor_text=lambda text, *_: page_allowance.add(len(text)),
        )


def _unreadable(exc: Exception) -> Exception:
    said = " ".join(str(exc).split()) or "no detail"
    return error("unreadable-pdf", f"{type(exc).__name__}: {said[:300]}")


def _clean(line: str) -> str:
    line = line.translate(_LIGATURES).translate(_INVISIBLE)
    line = " ".join(line.split())
    return _BULLET.sub("- ", line)


def _page_lines(text: str) -> list[str]:
    """Cleaned lines of one page, with "" where a blank line (paragraph break) was."""
    lines: list[str] = []
    for raw in text.splitlines():
        line = _clean(raw)
        if line or (lines and lines[-1]):
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _running_key(line: str) -> str:
    return _DIGITS.sub("#", line.casefold())


def _edges(lines: list[str]) -> list[int]:
    """Indexes of the non-blank lines near the top and bottom of a page."""
    filled = [i for i, line in enumerate(lines) if line]
    return sorted(set(filled[:_EDGE_LINES] + filled[-_EDGE_LINES:]))


def _drop_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Without the header and footer lines every page repeats (page numbers may differ)."""
    if len(pages) < _MIN_PAGES_FOR_EDGES:
        return pages
    keys = [{_running_key(lines[i]) for i in _edges(lines)} for lines in pages]
    running = set.intersection(*keys)
    if not running:
        return pages
    kept = []
    for lines in pages:
        drop = {i for i in _edges(lines) if _running_key(lines[i]) in running}
        kept.append(_page_lines("\n".join(line for i, line in enumerate(lines) if i not in drop)))
    return kept


def _join_pages(pages: list[list[str]]) -> list[str]:
    """Paragraphs of all pages; one broken by a page break (no final stop, lowercase next) is rejoined."""
    paragraphs: list[str] = []
    for lines in pages:
        page = _paragraphs(lines)
        if paragraphs and page and not _ENDS_SENTENCE.search(paragraphs[-1][-2:]) and page[0][0].islower():
            paragraphs[-1] = _paragraphs([paragraphs[-1], page.pop(0)])[0]
        paragraphs.extend(page)
    return paragraphs


def _paragraphs(lines: list[str]) -> list[str]:
    paragraphs: list[str] = []
    current = ""
    for line in [*lines, ""]:
        if not line:
            if current:
                paragraphs.append(current)
            current = ""
        elif not current:
            current = line
        elif _HYPHENATED.search(current[-3:]) and line[0].isalpha():  # the end only: a paragraph may be long
            current = current[:-1] + line
        elif _LIST_ITEM.match(line):
            current += "\n" + line
        else:
            current += " " + line
    return paragraphs
