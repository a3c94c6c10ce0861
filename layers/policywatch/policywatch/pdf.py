"""PDF policies as Markdown-ish text: paragraphs of every page, in order.

pypdf's layout extraction keeps vertical gaps as blank lines, which is what separates
paragraphs here. Lines are cleaned (whitespace collapsed, ligatures expanded, words
hyphenated across a line break rejoined), lines repeated at the top or bottom of every page
(headers, footers, "Page 3 of 9") are dropped once the document has three pages or more, and
the lines of a paragraph are joined with spaces, except list items, which keep their own line.
"""

from __future__ import annotations

import io
import logging
import re

from pypdf import PasswordType, PdfReader

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


def pdf_to_markdown(data: bytes) -> str:
    """Text of every page of the PDF ``data``, as paragraphs separated by blank lines.

    Raises ``ExtractionError("unreadable-pdf", ...)`` for corrupt or password-protected files
    and ``ExtractionError("pdf-without-text", ...)`` when no page has text (a scan).
    """
    pages = [_page_lines(text) for text in _page_texts(data)]
    paragraphs = _join_pages(_drop_running_lines(pages))
    if not _has_text(paragraphs):  # every line was a "header": keep them rather than nothing
        paragraphs = _join_pages(pages)
    if not _has_text(paragraphs):
        raise _error("pdf-without-text", f"{len(pages)} page(s) and no extractable text (a scan needs OCR)")
    return "\n\n".join(paragraphs) + "\n"


def _has_text(paragraphs: list[str]) -> bool:
    return any(ch.isalnum() for p in paragraphs for ch in p)


def _error(kind: str, detail: str) -> Exception:
    # Imported here, not at the top: the extraction module may import this one.
    from policywatch.extract import ExtractionError

    return ExtractionError(kind, detail)


def _page_texts(data: bytes) -> list[str]:
    try:
        reader = PdfReader(io.BytesIO(data))
        locked = reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED
    except Exception as exc:
        raise _unreadable(exc) from None
    if locked:
        raise _error("unreadable-pdf", "the PDF is encrypted and needs a password")
    texts = []
    try:
        for page in reader.pages:
            try:
                texts.append(page.extract_text(extraction_mode="layout"))
            except Exception:  # layout mode is stricter about fonts than plain mode
                texts.append(page.extract_text())
    except Exception as exc:
        raise _unreadable(exc) from None
    return texts


def _unreadable(exc: Exception) -> Exception:
    said = " ".join(str(exc).split()) or "no detail"
    return _error("unreadable-pdf", f"{type(exc).__name__}: {said[:300]}")


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
        if paragraphs and page and not _ENDS_SENTENCE.search(paragraphs[-1]) and page[0][0].islower():
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
        elif _HYPHENATED.search(current) and line[0].isalpha():
            current = current[:-1] + line
        elif _LIST_ITEM.match(line):
            current += "\n" + line
        else:
            current += " " + line
    return paragraphs
