"""PDF extraction: budgets on hostile PDFs (issue 11, finding 6): pages and content are counted
before any text is read, the clock and the text page by page; and damaged PDFs are recorded failures.

The PDFs are written by tests/helpers/pdfs.py. Bounds are ceilings several times what the fixed code
takes on a busy machine; the code before the budgets took far longer (stated per test).
"""

import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PageObject

from policywatch.fetch.extraction import pdf as pdfs
from policywatch.fetch.extraction.budget import (
    MAX_PDF_CONTENT,
    MAX_PDF_PAGE_CONTENT,
    MAX_PDF_PAGES,
    MAX_TEXT_CHARS,
    ExtractionBudget,
)
from policywatch.fetch.extraction.checks import ExtractionError
from policywatch.fetch.extraction.pdf import pdf_to_markdown
from tests.helpers.pdfs import form_pdf, pdf, shared_stream_pdf, text_stream
from tests.helpers.strategies import PROPERTY

# 6,000 lines of text: a 160 KB content stream, 4-5 s of pypdf's work each time a page draws it.
_HEAVY = text_stream(["policy words line"] * 6_000)


def _failure(data: bytes) -> ExtractionError:
    with pytest.raises(ExtractionError) as caught:
        pdf_to_markdown(data)
    return caught.value


@pytest.mark.timeout(10)
def test_a_thousand_pages_sharing_one_content_stream_are_refused_at_once():
    # Before: over 250 s (each page parsed the shared stream again), for a 160 KB file.
    failure = _failure(shared_stream_pdf(1_000, _HEAVY))
    assert failure.kind == "too-large" and f"{MAX_PDF_PAGES:,}" in failure.detail


@pytest.mark.timeout(10)
def test_a_shared_stream_counts_on_every_page_that_draws_it():
    # 400 pages, within the page limit. Before: about 30 minutes.
    failure = _failure(shared_stream_pdf(400, _HEAVY))
    assert failure.kind == "too-large"
    assert "a stream counts on every page that draws it" in failure.detail
    assert f"{MAX_PDF_CONTENT // 1024:,} KB" in failure.detail


@pytest.mark.timeout(10)
def test_a_page_drawing_too_much_content_is_refused_before_reading():
    failure = _failure(pdf(["First page of the policy."], ["x" * 80] * 3_500))  # page 2: 290 KB
    assert failure.kind == "too-large"
    assert failure.detail.startswith("page 2 draws") and f"{MAX_PDF_PAGE_CONTENT // 1024} KB a page" in failure.detail


@pytest.mark.timeout(60)
def test_text_drawn_far_apart_is_not_padded_in_memory():
    # Text 100,000 points apart across and 10,000 down, in a 0.1 pt font: pypdf pads each gap
    # with up to 10,000 spaces and 1,000 blank lines. Before: 27 MB at the peak for two such
    # pages (and 6 MB more for each page after), all of it whitespace; now 6 MB.
    shows = b"".join(b"1 0 0 1 %d %d Tm (w) Tj\n" % ((i % 2) * 100_000, i * 10_000) for i in range(1_000))
    data = shared_stream_pdf(2, b"BT /F1 0.1 Tf\n" + shows + b"ET\n")
    tracemalloc.start()
    try:
        text = pdf_to_markdown(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert text.count("w") == 2_000
    assert peak < 15_000_000


def test_layout_gaps_are_cut_only_beyond_any_page():
    # The cut is what keeps the padding small; a page is never 1,000 columns wide.
    from pypdf._text_extraction._layout_mode import _fixed_width_page as layout

    assert (layout.WHITESPACE_LIMIT, layout.NEWLINE_LIMIT) == (1_000, 1)
    two_columns = pdf(["Left column text                                        Right column text", "", "Next"])
    assert pdf_to_markdown(two_columns) == "Left column text Right column text\n\nNext\n"


def test_a_pdf_past_its_time_budget_is_too_slow(monkeypatch):
    monkeypatch.setattr(pdfs, "PDF_SECONDS", -1)
    failure = _failure(pdf(["We collect personal data."], ["Second page."]))
    assert failure.kind == "too-slow" and "reading page 1 of 2" in failure.detail


@pytest.fixture
def layout_fails(monkeypatch):
    """Layout mode failing on every page (it is stricter about fonts): plain mode reads them."""
    original = PageObject.extract_text

    def extract_text(self, *args, extraction_mode="plain", **kwargs):
        if extraction_mode == "layout":
            raise ValueError("a font layout mode cannot read")
        return original(self, *args, extraction_mode=extraction_mode, **kwargs)

    monkeypatch.setattr(PageObject, "extract_text", extract_text)


@pytest.mark.timeout(30)
def test_plain_mode_counts_the_text_of_forms_drawn_again_and_again(layout_fails):
    # One form XObject drawn 2,000 times: 12 MB of text from a 14 KB file. Before: read in full.
    failure = _failure(form_pdf(2_000, ["We collect personal data to provide the services. " * 24] * 5))
    assert failure.kind == "too-large" and f"{MAX_TEXT_CHARS:,}" in failure.detail


def test_plain_mode_checks_the_clock_at_every_operator(layout_fails, monkeypatch):
    ticks = iter(range(10**9))
    monkeypatch.setattr(
        pdfs, "ExtractionBudget", lambda seconds, deadline: ExtractionBudget(seconds, clock=lambda: next(ticks))
    )
    failure = _failure(form_pdf(200, ["We collect personal data."]))
    assert failure.kind == "too-slow" and "reading a page" in failure.detail


def test_plain_mode_still_reads_an_ordinary_page(layout_fails):
    assert pdf_to_markdown(pdf(["We collect personal data.", "We keep it 30 days."])) == (
        "We collect personal data. We keep it 30 days.\n"
    )


@pytest.mark.timeout(10)
def test_a_long_hyphenated_paragraph_is_joined_in_linear_time():
    # Before: over 120 s for 20,000 lines (the hyphenation check searched the whole paragraph).
    lines = ["a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-r-s-t-u-v-w-x-y-z"] * 20_000
    (paragraph,) = pdfs._paragraphs(lines)
    assert len(paragraph) == 20_000 * 52 - 1


# --- properties (hypothesis): any PDF, however damaged, extracts or is a recorded failure -----------


_SAMPLE_PDF = pdf(["We collect personal data.", "", "We keep it 30 days."], ["Page two of the policy."])


@pytest.mark.timeout(300)
@PROPERTY
@given(
    st.lists(st.tuples(st.integers(0, len(_SAMPLE_PDF) - 1), st.binary(min_size=0, max_size=8)), min_size=1, max_size=6)
)
def test_damaged_pdfs_extract_or_are_a_recorded_failure(damage):
    data = bytearray(_SAMPLE_PDF)
    for offset, replacement in damage:
        data[offset : offset + max(len(replacement), 1)] = replacement  # nothing: a byte deleted
    try:
        result = pdf_to_markdown(bytes(data))
    except ExtractionError as failure:
        assert failure.kind in {"unreadable-pdf", "pdf-without-text", "too-large", "too-slow"}
        return
    assert result.endswith("\n")


@pytest.mark.timeout(300)
@PROPERTY
@given(st.binary(max_size=2_000))
def test_random_bytes_as_a_pdf_are_a_recorded_failure(data):
    with pytest.raises(ExtractionError):
        pdf_to_markdown(b"%PDF-1.4\n" + data)
