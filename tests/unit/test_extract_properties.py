"""Property: any page, however malformed, is extracted within its budget or is a recorded
failure (``ExtractionError``): never another exception (which the fetch stage would retry to the
dead-letter queue, unrecorded), never a hang.

Random, nested and malformed HTML, random bytes, and damaged PDFs. Examples are kept few
enough for the suite to stay fast; the timeouts are the "never a hang".
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policywatch.fetch.extraction.budget import MAX_DEPTH
from policywatch.fetch.extraction.html import ExtractionError, extract, html_to_markdown
from policywatch.fetch.extraction.pdf import pdf_to_markdown
from tests.pdfs import pdf

PROPERTY = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

TAGS = [
    "p", "div", "span", "a", "b", "ul", "ol", "li", "table", "tr", "td", "th", "h1", "h3", "br", "hr",
    "main", "section", "pre", "dl", "dt", "dd", "script", "style", "svg", "button", "template", "iframe",
    "article", "font", "center", "select", "x-custom", "tbody",
]  # fmt: skip
ATTRIBUTES = [
    "", " hidden", ' aria-hidden="true"', ' style="display:none"', ' class="col sr-only"', ' id="cookie-banner"',
    ' role="dialog" aria-label="Cookie consent"', ' href="/a?utm_source=x"', ' href="http://[x/y"',
    ' href="javascript:alert(1)"', ' href="#top"', " href", ' href="(a) b"',
]  # fmt: skip
SELECTORS = ["main", "body", "div", "p, li", ".col:nth-child(3)", "body > header + section", "[role=article]", "a"]
REMOVALS = [[], [".sr-only"], ["span"], ['[href="/legal"]:first-child'], ["main .sr-only", "table"]]

text = st.text(st.characters(codec="utf-8"), max_size=30)
markup = st.sampled_from(
    ["<", ">", "</", "<!--", "-->", "<![CDATA[", "]]>", "&amp;", "&#0;", "&#x110000;", "<!DOCTYPE"]
)


@st.composite
def elements(draw, children):
    tag = draw(st.sampled_from(TAGS))
    attributes = draw(st.sampled_from(ATTRIBUTES))
    inner = "".join(draw(st.lists(children, max_size=4)))
    close = draw(st.sampled_from([f"</{tag}>", "", f"</{draw(st.sampled_from(TAGS))}>"]))
    return f"<{tag}{attributes}>{inner}{close}"


html_fragments = st.recursive(st.one_of(text, markup), lambda children: elements(children), max_leaves=40)


@st.composite
def nested(draw):
    """A fragment wrapped in levels of one tag, some past the depth limit."""
    tag = draw(st.sampled_from(["div", "span", "ul", "li", "td", "a", "b"]))
    levels = draw(st.integers(0, MAX_DEPTH + 200))
    return f"<{tag}>" * levels + draw(html_fragments) + f"</{tag}>" * draw(st.integers(0, levels))


def _extracts_or_fails(html, select, remove=(), **options):
    try:
        result = extract(html, select, remove, **options)
    except ExtractionError as failure:
        assert failure.kind and failure.detail and "\n" not in failure.detail
        return
    assert isinstance(result, str) and result.endswith("\n")


@pytest.mark.timeout(300)
@PROPERTY
@given(
    html_fragments,
    st.sampled_from(SELECTORS),
    st.sampled_from(REMOVALS),
    st.sampled_from([(), ("drop-query-strings",), ("drop-link-targets",)]),
    st.sampled_from([None, "https://x.test/legal/", "http://[bad"]),
)
def test_random_html_extracts_or_is_a_recorded_failure(fragment, selector, remove, filters, base_url):
    page = f"<html><head><title>t</title></head><body><main>{fragment}</main></body></html>"
    _extracts_or_fails(page, [selector], remove, filters=filters, base_url=base_url)


@pytest.mark.timeout(300)
@PROPERTY
@given(nested(), st.sampled_from(SELECTORS))
def test_nested_html_extracts_or_is_a_recorded_failure(fragment, selector):
    _extracts_or_fails(f"<body><main>{fragment}</main></body>", [selector])


@pytest.mark.timeout(300)
@PROPERTY
@given(st.binary(max_size=4_000), st.sampled_from(SELECTORS))
def test_random_bytes_extract_or_are_a_recorded_failure(body, selector):
    try:
        result = html_to_markdown(body, [selector])
    except ExtractionError:
        return
    assert result.endswith("\n")


@pytest.mark.timeout(300)
@PROPERTY
@given(text, st.text(max_size=20))
def test_any_selector_is_matched_or_named_as_invalid(words, selector):
    _extracts_or_fails(f"<main><p>{words}</p></main>", [selector])


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
