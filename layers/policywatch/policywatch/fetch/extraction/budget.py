"""Extraction budgets: how much one page may cost, and the checks that hold it to that.

A fetched page is hostile input. Its bytes are capped by the fetcher (5 MB), but what 5 MB
of markup or PDF turns into is not: a million tiny elements, elements nested thousands deep,
a PDF whose thousand pages all draw one large content stream. Past any limit below the
page is a **recorded failure** (``ExtractionError`` with kind ``too-large``, ``too-deep`` or
``too-slow``): the operator is told, subscribers are not, and no version is made.

Every limit sits far above the real pages: the corpus's eleven pages (``../shared/corpus``,
0.04-1.2 MB) have at most 3,880 ``<``, 1,975 elements, 27 levels of nesting and 225 KB of
Markdown, and extract in 0.04-0.65 s each on a busy 2-core machine (docs/extraction.md,
"Budgets"; ``tests/unit/fetch/extraction/test_budget.py`` checks the tenfold headroom on every page).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bs4 import BeautifulSoup, Tag

from policywatch.fetch.extraction.checks import ExtractionError

# HTML ---------------------------------------------------------------------------------
# Every tag, end tag and comment starts with "<", and each becomes at most a node or two:
# counted on the raw page before parsing, this bounds the tree (about 1 KB of memory and
# 50 us of parsing per node) before any of it is built. The busiest corpus page has 3,880.
MAX_MARKUP = 100_000
# Nesting: Blink and WebKit stop nesting at 512 levels too. Deeper trees make selector
# matching and list indentation grow with depth x size. The corpus's deepest page has 27.
MAX_DEPTH = 512
# Seconds for one HTML page, from parsing to Markdown: the slowest corpus page (Microsoft's
# privacy statement) takes 0.3-0.65 s; a page at the markup limit 3-7 s.
HTML_SECONDS = 10.0

# PDF ----------------------------------------------------------------------------------
# Policy PDFs run to tens of pages.
MAX_PDF_PAGES = 500
# Bytes of content stream one page draws (decompressed). A page of text draws 5-30 KB, and
# pypdf takes 7-30 us per byte: this keeps one page, which cannot be interrupted, to seconds.
MAX_PDF_PAGE_CONTENT = 256 * 1024
# Bytes of content stream all pages draw together, a stream counted again on every page that
# draws it (1,000 pages can share one stream: the file stays small, the work does not). About
# 500 pages of text, and what pypdf reads in the time below.
MAX_PDF_CONTENT = 4 * 1024 * 1024
# Seconds for one PDF, checked between pages (a 36-page manual takes 2-4 s).
PDF_SECONDS = 30.0

# Both -----------------------------------------------------------------------------------
# Characters of Markdown one page may give: as many as the fetcher takes bytes (5 MB), so
# only an amplification passes it (indentation of deep lists, whitespace of a PDF's layout).
# The longest real text: Microsoft's privacy statement, 225 KB of Markdown.
MAX_TEXT_CHARS = 5_000_000
# Extractions running at once in one process (the fetch function runs 10 jobs in threads,
# in 512 MB). Extraction holds the GIL: two at once would finish no sooner than one after the
# other, but each would take twice as long by the clock its budget is measured by, and the
# process would hold two trees (40-60 MB each at the limits above) instead of one.
EXTRACTION_SLOTS = 1

_SLOTS = threading.BoundedSemaphore(EXTRACTION_SLOTS)


def error(kind: str, detail: str) -> ExtractionError:
    return ExtractionError(kind, detail)


class ExtractionBudget:
    """The time one extraction may take from its start; ``check`` raises ``too-slow`` past it.

    ``deadline`` (``time.monotonic()``), when given and sooner, is the invocation's: the page
    stops there, so that the function ends before Lambda stops it (losing the whole batch).
    ``check`` is cheap (a clock read): call it in every loop over a page's nodes or pages.
    """

    def __init__(
        self,
        seconds: float = HTML_SECONDS,
        *,
        deadline: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self._clock = clock
        self.deadline = clock() + seconds
        self._past = f"over the {seconds:g} s budget"
        if deadline is not None and deadline < self.deadline:
            self.deadline = deadline
            self._past = "at the invocation's deadline"

    def check(self, doing: str) -> None:
        if self._clock() > self.deadline:
            raise error("too-slow", f"{self._past} while {doing}")


@contextmanager
def extraction_slot(deadline: float | None = None) -> Iterator[None]:
    """Hold one of the process's ``EXTRACTION_SLOTS`` while extracting; wait for one until ``deadline``."""
    timeout = None if deadline is None else max(deadline - time.monotonic(), 0)
    if not _SLOTS.acquire(timeout=timeout):
        raise error("too-slow", "at the invocation's deadline while waiting for another extraction to finish")
    try:
        yield
    finally:
        _SLOTS.release()


def check_markup(html: bytes | str) -> None:
    """Refuse a raw page with more than ``MAX_MARKUP`` "<" before anything is parsed.

    Counted on the bytes (no decoding): the "<" byte is there in ASCII-compatible encodings
    and in UTF-16 and UTF-32 alike.
    """
    count = html.count(b"<") if isinstance(html, bytes) else html.count("<")
    if count > MAX_MARKUP:
        raise error(
            "too-large", f"the page has {count:,} tags and end tags (counted by '<'); the limit is {MAX_MARKUP:,}"
        )


def check_depth(soup: BeautifulSoup | Tag, budget: ExtractionBudget) -> None:
    """Refuse a tree whose elements nest deeper than ``MAX_DEPTH``; one pass, no recursion."""
    stack = [(soup, 0)]
    while stack:
        node, depth = stack.pop()
        budget.check("measuring the page")
        if depth > MAX_DEPTH:
            raise error("too-deep", f"elements nest more than {MAX_DEPTH} levels deep")
        stack.extend((child, depth + 1) for child in node.contents if isinstance(child, Tag))


class TextAllowance:
    """Counts the characters of Markdown produced; ``add`` raises ``too-large`` past ``MAX_TEXT_CHARS``."""

    def __init__(self, limit: int = MAX_TEXT_CHARS) -> None:
        self.limit = limit
        self.used = 0

    def add(self, chars: int) -> None:
        self.used += chars
        if self.used > self.limit:
            raise error("too-large", f"the page gives over {self.limit:,} characters of text")
