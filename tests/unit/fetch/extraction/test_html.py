"""Extraction and page checks on real pages and on edge cases; any page extracts or is a recorded failure.

Pages and histories: Open Terms Archive GenAI collection, ODC-By 1.0 (../shared/corpus).
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policywatch.fetch.extraction.budget import MAX_DEPTH
from policywatch.fetch.extraction.checks import ExtractionError, check_text
from policywatch.fetch.extraction.html import check_page, extract, html_to_markdown, parse
from tests.helpers.corpus import CORPUS, corpus_page, snapshot_index
from tests.helpers.strategies import PROPERTY

SNAPSHOTS = snapshot_index()
BROKEN = {"le-chat", "grok"}  # rebuilt as script-rendered apps: their selectors match nothing now

# What each page's policy text must contain: its opening heading and a sentence from the body.
EXPECTED = {
    "claude-ai/privacy-policy/2025-08-28.html": ("# Privacy Policy", "We will not use your Inputs or Outputs to train"),
    "claude-ai/privacy-policy/2025-08-29.html": ("# Privacy Policy", "We may use your Inputs and Outputs to train"),
    "claude-ai/privacy-policy/2026-08-22.html": ("# Privacy Policy", "Anthropic is an AI safety and research company"),
    "chatgpt/privacy-policy/2025-07-31.html": ("# Europe privacy policy", "OpenAI OpCo, LLC"),
    "midjourney/privacy-policy/2026-08-22.html": ("# Privacy Policy", "## 1. Introduction"),
    "perplexity/privacy-policy/2025-09-24.html": ("# Perplexity's Privacy Policy", "Perplexity AI, Inc."),
    "deepseek/privacy-policy/2026-02-10.html": ("# DeepSeek Privacy Policy", "## Introduction"),
    "microsoft-copilot/privacy-policy/2026-08-22.html": (
        "# Microsoft Privacy Statement",
        "### Personal data we collect",
    ),
    "google-generative-ai-services/terms-of-service/2026-08-22.html": (
        "Generative AI Additional Terms of Service",
        "[Google Terms of Service](https://policies.google.com/terms",
    ),
}


def _snapshot(entry):
    raw = (CORPUS / entry["file"]).read_bytes()
    soup = parse(raw)
    check_page(soup)
    return extract(soup, entry["select"], entry["remove"], base_url=entry["url"])


@pytest.mark.parametrize(
    "entry", [e for e in SNAPSHOTS if e["file"].split("/")[1] not in BROKEN], ids=lambda e: e["file"][10:]
)
def test_every_corpus_page_gives_its_policy_text(entry):
    text = _snapshot(entry)
    heading, sentence = EXPECTED[entry["file"].removeprefix("snapshots/")]
    assert heading in text and sentence in text
    check_text(text, min_chars=500)
    assert "<script" not in text and "function(" not in text and "{{" not in text
    assert len(text.encode()) < entry["bytes"] * 0.7  # the policy, not the page's machinery


@pytest.mark.parametrize(
    "entry", [e for e in SNAPSHOTS if e["file"].split("/")[1] in BROKEN], ids=lambda e: e["service"]
)
def test_broken_selectors_on_rebuilt_pages_are_extraction_failures(entry):
    with pytest.raises(ExtractionError) as caught:
        _snapshot(entry)
    assert caught.value.kind == "selector-matched-nothing"
    assert entry["select"][0] in str(caught.value)


def test_lists_tables_and_links_survive_on_real_pages():
    chatgpt = _snapshot(next(e for e in SNAPSHOTS if e["service"] == "ChatGPT"))
    # The legal-basis table: a header, its separator, and rows whose cells hold lists.
    assert "| Purpose of processing | Type of Personal Data processed" in chatgpt
    assert (
        "\n| --- | --- | --- |\n| To provide, analyze, and maintain our Services | \u2022 Account Information \u2022"
        in chatgpt
    )
    claude = _snapshot(next(e for e in SNAPSHOTS if e["file"].endswith("2025-08-29.html")))
    assert "\n- To improve the Services and conduct research, including training our models" in claude
    assert "Effective September 28, 2025 [Previous Version](https://www.anthropic.com/legal/archive/" in claude
    assert "(https://claude.ai/redirect/website.v1." in claude  # targets are archived as served


def test_positional_selectors_see_the_page_as_served():
    # Microsoft's `.col:nth-child(3)` counts the page's scripts; dropping them first would shift it.
    html = "<body><div class=row><script>x</script><div class=col>nav</div><div class=col>Policy</div></div></body>"
    assert extract(html, [".col:nth-child(3)"]) == "Policy\n"


def test_selector_that_matches_nothing_is_an_extraction_error():
    with pytest.raises(ExtractionError) as caught:
        extract(corpus_page("le-chat/privacy-policy/2026-08-21.html"), ["#privacy-policy"])
    assert caught.value.kind == "selector-matched-nothing"
    assert "#privacy-policy" in str(caught.value)


def test_invalid_selector_is_named():
    with pytest.raises(ExtractionError) as caught:
        extract("<main>x</main>", ["main[["])
    assert caught.value.kind == "invalid-selector"


def test_structure_links_and_hidden_content():
    html = """<html><head><style>p{}</style></head><body><main>
      <h2>Retention</h2><p>We keep   data
      for <a href="/retention?utm_source=x">30 days</a>. <a href="#top">Top</a></p>
      <ul><li>one<ul><li>nested</li></ul></li><li>two</li></ul>
      <ol><li>first</li></ol>
      <table><tr><th>Data</th><th>Period</th></tr><tr><td>Chats</td><td>30 days</td></tr></table>
      <div hidden>secret</div><p style="display:none">invisible</p><script>var a=1;</script>
      <noscript>enable js</noscript><svg><text>icon</text></svg><template><p>later</p></template>
      <p>Line<br>break</p></main></body></html>"""
    text = extract(html, ["main"], base_url="https://example.com/legal/privacy")
    assert text == (
        "## Retention\n\nWe keep data for [30 days](https://example.com/retention?utm_source=x). Top\n\n"
        "- one\n\n  - nested\n\n- two\n\n1. first\n\n"
        "| Data | Period |\n| --- | --- |\n| Chats | 30 days |\n\nLine\nbreak\n"
    )


def test_adjacent_laid_out_elements_keep_their_words_apart():
    html = '<main><div><span>Effective July 8, 2026</span><a href="/old">Previous Version</a></div></main>'
    assert extract(html, ["main"]) == "Effective July 8, 2026 [Previous Version](/old)\n"
    # ...but inline markup inside a sentence is not split
    assert extract("<main><p>We <b>do</b><i>n't</i> sell</p></main>", ["main"]) == "We don't sell\n"


def test_cookie_banners_go_but_a_policy_section_about_cookies_stays():
    html = """<body><main><h1>Privacy</h1>
      <section id="cookies"><h2>Cookies</h2><p>We use cookies to keep you signed in.</p></section></main>
      <div id="onetrust-consent-sdk"><p>We value your privacy. Accept all cookies?</p></div>
      <div role="dialog" aria-label="Cookie notice"><p>Cookies help us.</p></div>
      <div class="cc-window">Got it</div></body>"""
    text = extract(html, ["body"])
    assert "We use cookies to keep you signed in." in text
    assert "Accept all" not in text and "Cookies help us" not in text and "Got it" not in text


def test_filters_drop_link_targets_or_query_strings():
    html = '<main><p>See <a href="https://x.test/p?session=1#s">the notice</a>.</p></main>'
    assert extract(html, ["main"], filters=["drop-link-targets"]) == "See the notice.\n"
    assert extract(html, ["main"], filters=["drop-query-strings"]) == "See [the notice](https://x.test/p).\n"
    with pytest.raises(ExtractionError, match="unknown-filter"):
        extract(html, ["main"], filters=["nope"])


@pytest.mark.parametrize(
    ("html", "kind"),
    [
        (b"<title>Just a moment...</title><body>Checking</body>", "bot-wall"),
        (b"<title>Attention Required! | Cloudflare</title><body>Sorry</body>", "bot-wall"),
        (b"<body><div>Please complete the security check to access</div></body>", "bot-wall"),
        (b"<title>404 Not Found</title><body><h1>Not Found</h1></body>", "error-page"),
        (b"<title>Privacy</title><body><h1>Oops</h1><p>This page could not be found.</p></body>", "error-page"),
    ],
)
def test_error_pages_and_bot_walls_are_recognised(html, kind):
    with pytest.raises(ExtractionError) as caught:
        check_page(parse(html))
    assert caught.value.kind == kind


def test_real_pages_behind_a_cdn_challenge_script_are_not_bot_walls():
    for entry in SNAPSHOTS:  # ChatGPT's and Grok's pages carry Cloudflare's challenge-platform script
        check_page(parse((CORPUS / entry["file"]).read_bytes()))


def test_text_checks():
    with pytest.raises(ExtractionError, match="text-too-short"):
        check_text("Access denied", min_chars=500)
    policy = "We collect personal data. You agree to these terms; third parties; your rights under law. " * 10
    with pytest.raises(ExtractionError, match="text-collapsed"):
        check_text(policy, min_chars=500, previous_chars=30_000)
    check_text(policy, min_chars=500, previous_chars=1_000)
    with pytest.raises(ExtractionError, match="not-a-policy"):
        check_text("Claude writes, codes and thinks with you. Try it free today. " * 20, min_chars=500)


# --- properties (hypothesis): any page extracts within its budget or is a recorded failure, never another
# exception (which the fetch stage would retry to the dead-letter queue, unrecorded), never a hang --------


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
