"""Noise rules: the comparison form of a policy text, its fingerprint, and link targets.

Every rule of ``policywatch.text.noise`` (docs/extraction.md lists them) on small texts, then the
hostile inputs of issue 11: a flood of Markdown link openings took 15.7 s for 80 KB
(``_MD_LINK_TARGET`` read the rest of the run again from every "](").
"""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policywatch.text.noise import PLACEHOLDER, canonical_url, fingerprint, normalise, single_spaced, typography

# The link rule as it was before the fix: same results, quadratic on a flood of "](".
OLD_MD_LINK_TARGET = re.compile(r"\]\(([^)\s]+)\)")


def old_links(text: str) -> str:
    return OLD_MD_LINK_TARGET.sub(lambda m: f"]({canonical_url(m.group(1))})", text)


def test_typography_folds_quotes_dashes_spaces_and_invisible_characters():
    assert typography("We \u2019ll \u201cnot\u201d sell \u2014 ever\u00a0\u200b.") == 'We \'ll "not" sell - ever .'
    assert typography("\uff37e \ufb01nd") == "We find"  # full-width letters and ligatures (NFKC)


def test_whitespace_collapses_and_blank_lines_go():
    assert normalise("  We   keep\tdata.  \n\n\n  For  30 days. ") == "We keep data.\nFor 30 days."


def test_single_spaced_is_split_and_join_for_long_lines_too():
    line = ("word \t\u00a0 " * 20_000) + " end "
    assert len(line) > 65_536
    assert single_spaced(line) == " ".join(line.split())


def test_tracking_and_session_parameters_are_dropped_and_the_rest_sorted():
    url = "https://Example.com/privacy?utm_source=x&b=2&a=1&gclid=abc&X-Amz-Signature=zz&token=t#"
    assert canonical_url(url) == "https://example.com/privacy?a=1&b=2"


def test_per_request_tokens_become_a_placeholder_but_slugs_stay():
    uuid = "https://claude.ai/redirect/website.v1.0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b/privacy"
    assert PLACEHOLDER in canonical_url(uuid)
    slug = "https://openai.com/policies/dec-2023-eu-privacy-policy/"
    assert canonical_url(slug) == slug


def test_markdown_link_targets_and_bare_urls_are_canonical_in_the_text():
    text = "See [policy](https://x.test/p?utm_medium=mail) or https://x.test/q?fbclid=1 now."
    assert normalise(text) == "See [policy](https://x.test/p) or https://x.test/q now."


def test_a_link_opening_that_never_closes_is_left_alone():
    assert normalise("a ](https://x.test/p?utm_source=1 b") == "a ](https://x.test/p?utm_source=1 b"
    assert normalise("a ](x](https://x.test/?utm_source=1)") == "a ](x](https://x.test/)"


def test_fingerprint_ignores_noise_but_not_words():
    assert fingerprint("We don\u2019t sell data.") == fingerprint("We  don't sell data.\n")
    assert fingerprint("We don't sell data.") != fingerprint("We do sell data.")


@pytest.mark.timeout(10)  # before the fix: 15.7 s for 80 KB, 63 s for 160 KB
def test_a_flood_of_link_openings_is_linear():
    started = time.perf_counter()
    assert normalise("](" * 80_000) == "](" * 80_000  # 160 KB
    assert normalise("[a](" * 40_000 + "x") == "[a](" * 40_000 + "x"
    assert time.perf_counter() - started < 5  # 0.02 s here


_LINKISH = st.lists(
    st.sampled_from(["](", "](x", ")", " ", "\t", "a", "?utm_source=1", "&b=2", "https://x.test/p", "(", "]", "\n"]),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_LINKISH)
def test_link_targets_are_rewritten_as_before_the_fix(text):
    """The linear rule rewrites exactly what the old quadratic one did."""
    from policywatch.text import noise

    assert noise._links(text) == noise._BARE_URL.sub(lambda m: canonical_url(m.group(0)), old_links(text))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*"ab ](\t\n\u00a0\u2019\u200b#*_[<>|", "https://x.test/?utm_source=1"])).map("".join))
def test_the_comparison_form_is_well_formed(text):
    """No blank line, no space at either end of a line, no run of spaces: whatever the input."""
    out = normalise(text)
    for line in out.split("\n") if out else []:
        assert line and line == line.strip() and "  " not in line
    assert normalise(out) == out  # folding twice changes nothing
