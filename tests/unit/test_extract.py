"""Extraction, page checks and noise rules on real pages and on edge cases.

Pages and histories: Open Terms Archive GenAI collection, ODC-By 1.0 (../shared/corpus).
"""

import json
import re

import pytest

from policywatch.fetch.extraction.html import ExtractionError, check_page, check_text, extract, parse
from policywatch.text.noise import canonical_url, fingerprint, normalise
from tests.conftest import CORPUS, corpus_page

SNAPSHOTS = json.loads((CORPUS / "snapshots" / "index.json").read_text())
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


# Noise rules (docs/extraction.md) -------------------------------------------------


def test_typography_and_whitespace_do_not_change_the_fingerprint_but_words_do():
    a = "We don\u2019t sell your data \u2014 ever.\u00a0 Really.\u200b"
    b = "We don't sell your data - ever. Really."
    assert normalise(a) == normalise(b)
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint("We do sell your data - ever. Really.")
    assert fingerprint("\u201cServices\u201d") == fingerprint('"Services"')


@pytest.mark.parametrize(
    ("noisy", "clean"),
    [
        ("https://x.test/p?utm_source=mail&utm_campaign=q3&id=7", "https://x.test/p?id=7"),
        ("https://x.test/p?gclid=abc&fbclid=def", "https://x.test/p"),
        (
            "https://b.s3.amazonaws.com/k.pdf?X-Amz-Signature=f00&X-Amz-Date=20250101T000000Z",
            "https://b.s3.amazonaws.com/k.pdf",
        ),
        (
            "https://claude.ai/redirect/website.v1.d137b5a2-b2bf-455d-aa2f-e7829acf46ab/settings",
            "https://claude.ai/redirect/website.v1.{token}/settings",
        ),
        ("https://x.test/r/aGVsbG8Xd29ybGQ3MjM0NTY3ODk", "https://x.test/r/{token}"),
        ("https://x.test/p;jsessionid=A1B2C3?b=2&a=1", "https://x.test/p?a=1&b=2"),
    ],
)
def test_link_noise_is_folded_away(noisy, clean):
    assert canonical_url(noisy) == clean


def test_readable_slugs_and_real_link_changes_are_kept():
    assert canonical_url("https://openai.com/policies/dec-2023-eu-privacy-policy/") == (
        "https://openai.com/policies/dec-2023-eu-privacy-policy/"
    )
    assert fingerprint("[notice](https://x.test/a)") != fingerprint("[notice](https://x.test/b)")


def _history(name):
    folder = CORPUS / "histories" / name
    index = json.loads((folder / "index.json").read_text())["versions"]
    return [(v["seq"], v["recorded_at"], (folder / v["file"]).read_text()) for v in index]


def test_claude_versions_that_differ_only_by_link_tokens_have_one_fingerprint():
    history = _history("claude-ai-privacy-policy")
    token_only = 0
    for (_, _, before), (seq, _, after) in zip(history, history[1:], strict=False):
        if before != after and _without_tokens(before) == _without_tokens(after):
            token_only += 1
            assert fingerprint(before) == fingerprint(after), f"version {seq} differs only by link tokens"
    assert token_only >= 20  # most recorded "changes" of this policy are rotating tokens
    # 52 distinct texts in 68 versions; after the noise rules, a handful of real ones.
    assert len({text for _, _, text in history}) == 52
    assert len({fingerprint(text) for _, _, text in history}) <= 8


def test_claude_training_change_of_2025_08_29_changes_the_fingerprint():
    history = _history("claude-ai-privacy-policy")
    (_, before_day, before), (_, after_day, after) = history[1], history[2]
    assert (before_day[:10], after_day[:10]) == ("2025-08-16", "2025-08-29")
    assert fingerprint(before) != fingerprint(after)


def _without_tokens(text):
    return re.sub(r"website\.v1\.[0-9a-f-]{36}", "website.v1.X", text)
