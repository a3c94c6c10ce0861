"""Extraction and normalisation on real pages and on edge cases."""

import pytest

from policywatch.extract import ExtractionError, check_text, extract, fingerprint, normalise
from tests.conftest import corpus_page


def test_claude_privacy_policy_is_cut_out_of_the_page_as_markdown():
    text = extract(corpus_page("claude-ai/privacy-policy/2025-08-29.html"), ["main"])
    assert text.startswith("# Privacy Policy\n")
    assert "We may use your Inputs and Outputs to train our models" in text
    assert "<script" not in text and "function(" not in text
    assert "\n## " in text  # sub-headings survive
    assert 25_000 < len(text) < 40_000  # the policy, not the 1 MB page


def test_selector_that_matches_nothing_is_an_extraction_error():
    # Le Chat's page was rebuilt as a script-rendered app: its selector no longer matches.
    with pytest.raises(ExtractionError) as caught:
        extract(corpus_page("le-chat/privacy-policy/2026-08-21.html"), ["#privacy-policy"])
    assert caught.value.kind == "selector-matched-nothing"
    assert "#privacy-policy" in str(caught.value)


def test_invalid_selector_is_named():
    with pytest.raises(ExtractionError) as caught:
        extract("<main>x</main>", ["main[["])
    assert caught.value.kind == "invalid-selector"


def test_structure_and_hidden_content():
    html = """<html><head><style>p{}</style></head><body><main>
      <h2>Retention</h2><p>We keep   data
      for <a href="https://x/?token=abc">30 days</a>.</p>
      <ul><li>one<ul><li>nested</li></ul></li><li>two</li></ul>
      <ol><li>first</li></ol>
      <table><tr><th>Data</th><th>Period</th></tr><tr><td>Chats</td><td>30 days</td></tr></table>
      <div hidden>secret</div><p style="display:none">invisible</p><script>var a=1;</script>
      <p>Line<br>break</p></main></body></html>"""
    text = extract(html, ["main"])
    assert text == (
        "## Retention\n\nWe keep data for 30 days.\n\n- one\n\n  - nested\n\n- two\n\n1. first\n\n"
        "| Data | Period |\n\n| Chats | 30 days |\n\nLine\nbreak\n"
    )


def test_remove_selectors_and_several_selected_roots_in_document_order():
    html = "<body><div id=b>Second</div><div id=a>First <span class=x>drop</span></div></body>"
    assert extract(html, ["#a", "#b"], [".x"]) == "Second\n\nFirst\n"


def test_typography_does_not_change_the_fingerprint_but_words_do():
    a = "We don\u2019t sell your data \u2014 ever.\u00a0 Really."
    b = "We don't sell your data - ever. Really."
    assert normalise(a) == normalise(b)
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint("We do sell your data - ever. Really.")


def test_text_checks():
    with pytest.raises(ExtractionError, match="text-too-short"):
        check_text("Access denied", min_chars=500)
    with pytest.raises(ExtractionError, match="text-collapsed"):
        check_text("x" * 600, min_chars=500, previous_chars=30_000)
    check_text("x" * 600, min_chars=500, previous_chars=700)
