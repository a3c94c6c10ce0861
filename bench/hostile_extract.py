"""Hostile pages for the extraction stage (issue 11, finding 6), for ``python -m bench.hostile``.

Each case builds one page the way the review did and extracts it as the fetch stage does:
HTML through ``html_to_markdown`` (or, in a checkout from before the budgets, the same
parse, page checks and extract it replaced), PDF through ``pdf_to_markdown``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from policywatch.fetch.extraction.checks import ExtractionError
from policywatch.fetch.extraction.html import check_page, extract, parse
from policywatch.fetch.extraction.pdf import pdf_to_markdown
from tests.helpers.pdfs import shared_stream_pdf, text_stream

try:
    from policywatch.fetch.extraction.html import html_to_markdown
except ImportError:  # the code before the budgets: the same steps, no budget and no slot

    def html_to_markdown(html, select, remove=(), *, base_url=None, filters=()):
        soup = parse(html)
        check_page(soup)
        return extract(soup, select, remove, base_url=base_url, filters=filters)


def _page(body: bytes) -> bytes:
    return b"<html><head><title>Privacy Policy</title></head><body><main>" + body + b"</main></body></html>"


def _html(body: bytes) -> str:
    try:
        return f"extracted {len(html_to_markdown(_page(body), ['main'], base_url='https://x.test/')):,} characters"
    except ExtractionError as exc:
        return f"extraction failure: {exc}"[:160]


def _pdf(data: bytes) -> str:
    try:
        return f"extracted {len(pdf_to_markdown(data)):,} characters ({len(data) // 1024:,} KB file)"
    except ExtractionError as exc:
        return f"extraction failure: {exc}"[:160]


def tiny_elements_5mb() -> str:
    return _html(b"<i>a</i>" * 600_000)  # 4.8 MB, under the fetcher's 5 MB


def tiny_elements_under_limit() -> str:
    return _html(b"<i>a</i>" * 49_000)  # just under the markup limit: extracted, within budget


def nesting_1000() -> str:
    return _html(b"<div>" * 1_000 + b"deep" + b"</div>" * 1_000)


def nesting_100000() -> str:
    return _html(b"<div>" * 100_000 + b"deep" + b"</div>" * 100_000)


def cleanup_4000_levels() -> str:
    return _html(b"<div>" * 4_000 + b"deep" + b"</div>" * 4_000)


def cleanup_deep_and_wide() -> str:
    # Within every limit: 500 levels, then 24,000 elements. The old cleanup asked bs4 whether
    # each element was decomposed, and bs4 answered by searching the element's subtree.
    return _html(b"<div>" * 500 + b"<span>a</span>" * 24_000)


def empty_laid_out_elements() -> str:
    # Within every limit: the old renderer looked back over every empty piece for a separator.
    return _html(b"<div><b>x</b>" + b"<i></i>" * 45_000 + b"</div>")


def unparseable_link() -> str:
    return _html(b'<p>See <a href="http://[x/terms">the terms</a>.</p>')


def ten_pages_in_parallel() -> str:
    # The fetch function's ten threads, each extracting a page near the markup limit.
    page = b"<p>policy</p>" * 24_000
    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(lambda _: _html(page), range(10)))
    return f"10 pages: {outcomes[0]}" if len(set(outcomes)) == 1 else f"10 pages: {sorted(set(outcomes))}"


def pdf_1000_pages_one_stream() -> str:
    return _pdf(shared_stream_pdf(1_000, text_stream(["policy words line"] * 6_000)))  # 160 KB


def pdf_400_pages_one_stream() -> str:
    return _pdf(shared_stream_pdf(400, text_stream(["policy words line"] * 6_000)))


def pdf_text_drawn_far_apart() -> str:
    # Text shown 100,000 points apart in a 0.1 pt font: pypdf's layout pads each gap with
    # up to 10,000 spaces, 6 MB of them for each page of 28 KB.
    ops = b"".join(b"1 0 0 1 %d %d Tm (w) Tj\n" % ((i % 2) * 100_000, i * 20) for i in range(1_000))
    return _pdf(shared_stream_pdf(30, b"BT /F1 0.1 Tf\n" + ops + b"ET\n"))


CASES = [
    ("extract-html-tiny-elements-5mb", tiny_elements_5mb),
    ("extract-html-tiny-elements-under-limit", tiny_elements_under_limit),
    ("extract-html-nesting-1000", nesting_1000),
    ("extract-html-nesting-100000", nesting_100000),
    ("extract-html-cleanup-4000-levels", cleanup_4000_levels),
    ("extract-html-cleanup-deep-and-wide", cleanup_deep_and_wide),
    ("extract-html-empty-laid-out-elements", empty_laid_out_elements),
    ("extract-html-unparseable-link", unparseable_link),
    ("extract-html-ten-pages-in-parallel", ten_pages_in_parallel),
    ("extract-pdf-1000-pages-one-stream", pdf_1000_pages_one_stream),
    ("extract-pdf-400-pages-one-stream", pdf_400_pages_one_stream),
    ("extract-pdf-text-drawn-far-apart", pdf_text_drawn_far_apart),
]
