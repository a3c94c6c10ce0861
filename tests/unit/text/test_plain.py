"""The reader's text of a block: markup, links, images and screen-reader text dropped; its words;
hostile markup read in linear time (issue 11)."""

from __future__ import annotations

import pytest

from policywatch.text.plain import plain, plain_words, words


def test_plain_text_drops_markup_links_images_and_screen_reader_text():
    text = '**We** [share](https://x.test/p "t") ![logo](l.png) <b>data</b> (opens in a new window) | `x`'
    assert plain(text) == "We share data x"
    assert words("- Press Ctrl + C, or \u2318C.") == ("press", "key", "c", "or", "key", "c")


def test_long_text_words_are_the_same_words():
    text = "We can't share your data, Ctrl+C. " * 5_000
    assert len(text) > 65_536
    short = plain_words(plain(text[:34]))
    assert plain_words(plain(text)) == short * 5_000


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 200_000 + "](x", id="brackets"),  # before: 0.11 s for 5,000, quadratic
        pytest.param("![a](" * 40_000, id="images"),
        pytest.param("[a](" * 50_000, id="links"),
        pytest.param("<a" * 100_000, id="tags"),
    ],
)
def test_hostile_markup_is_read_in_linear_time(text):
    assert len(plain(text)) == len(text)  # nothing closes: nothing is markup


def test_words_ignore_assistive_text_and_keyboard_renderings():
    """'(opens in a new window)' and Ctrl/⌘ renderings are not words of the policy."""
    assert words("[files(opens in a new window)](https://x)") == words("[files](https://y)")
    assert words("Press Ctrl+K to search") == words("Press \u2318K to search")
