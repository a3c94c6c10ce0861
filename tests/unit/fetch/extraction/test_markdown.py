"""The Markdown renderer (``policywatch.fetch.extraction.markdown``): each element kind as documented, any
depth without recursion, every node checked against the page's time budget and every block counted
against its text allowance. (Dropping scripts, hidden nodes and banners is ``html.extract``'s, not its.)"""

from __future__ import annotations

import sys

import pytest
from bs4 import BeautifulSoup
from hypothesis import given
from hypothesis import strategies as st

from policywatch.fetch.extraction.budget import MAX_TEXT_CHARS, ExtractionBudget, TextAllowance
from policywatch.fetch.extraction.checks import ExtractionError
from policywatch.fetch.extraction.markdown import Renderer, clean
from tests.helpers.strategies import PROPERTY

BASE = "https://x.test/legal/privacy/"


def render(html, root="body", *, base_url=BASE, budget=None, allowance=None) -> list[str]:
    renderer = Renderer(base_url, set(), budget or ExtractionBudget(), allowance)
    return renderer.blocks(BeautifulSoup(html, "lxml").find(root))


def test_headings_are_atx_headings_of_their_level_on_one_line():
    html = "".join(f"<h{n}>Level  {n}</h{n}>" for n in range(1, 7))
    assert render(html) == ["# Level 1", "## Level 2", "### Level 3", "#### Level 4", "##### Level 5", "###### Level 6"]
    assert render('<h2>Your <br>rights <a href="#r">here</a></h2><h3> </h3><p>Text</p>') == [
        "## Your rights here",  # a line break is a space in a heading; an empty heading is no block
        "Text",
    ]
    assert render("<h4>Alone</h4>", root="h4") == ["#### Alone"]


def test_nested_lists_are_indented_two_spaces_a_level_and_numbered_by_position():
    html = "<ol><li>a<ul><li>b<ol><li>c</li><li>d</li></ol></li></ul></li><li>e</li><li></li><li>g</li></ol>"
    assert render(html) == ["1. a", "  - b", "    1. c", "    2. d", "2. e", "4. g"]  # an empty item keeps its number
    assert render("<ul><li>x <b>y</b><br>z</li></ul>", root="ul") == ["- x y z"]


def test_tables_are_pipe_rows_under_a_header_separator():
    html = """<table><thead><tr><th>Data | kind</th><th>Kept</th></tr></thead><tbody>
      <tr><td>Chats</td><td>30<br>days</td></tr><tr><td> </td><td></td></tr>
      <tr><td><ul><li>Logs</li><li>IPs</li></ul></td><td>90 days</td></tr></tbody></table>"""
    assert render(html) == [
        "| Data \\| kind | Kept |\n| --- | --- |\n| Chats | 30 days |\n| \u2022 Logs \u2022 IPs | 90 days |"
    ]
    nested = "<table><tr><td>outer<table><tr><td>inner</td></tr></table></td><td>z</td></tr></table>"
    assert render(nested) == ["| outer inner | z |\n| --- | --- |"]  # a nested table's rows are its cell's words
    assert render("<table><tr><td> </td></tr></table><p>after</p>") == ["after"]


def test_links_are_text_and_target_resolved_against_the_base_url():
    html = """<p><a href="../terms">Terms</a>, <a href=" https://y.test/a b(1) ">Other</a>,
      <a href="JavaScript:void(0)">Menu</a>, <a href="#top">Top</a>, <a>Plain</a>,
      <a href="/i"><img src="i.png"></a><a href="mailto:dpo@x.test">Write <br>to us</a></p>"""
    assert render(html) == [
        "[Terms](https://x.test/legal/terms), [Other](https://y.test/a%20b%281%29), Menu, Top, Plain, "
        "[Write to us](mailto:dpo@x.test)"
    ]
    assert render('<p><a href="../terms?x=1#s">Terms</a></p>', base_url=None) == ["[Terms](../terms?x=1#s)"]


def test_whitespace_collapses_and_blocks_break_the_text():
    html = "<div>one \t\n two<p>three</p>four<hr>five<!-- note -->six</div><p>Line<br>  break</p>"
    assert render(html) == ["one two", "three", "four", "fivesix", "Line\nbreak"]
    assert clean("  a \t b \n\n \n c  ") == "a b\nc"


def test_inline_rendering_keeps_line_breaks_and_links():
    soup = BeautifulSoup('<p>a<br>b <a href="/c">c</a></p>', "lxml")
    assert Renderer(BASE, set(), ExtractionBudget()).inline(soup.p) == " a\nb [c](https://x.test/c) "


@pytest.mark.timeout(60)
def test_nesting_past_the_interpreters_recursion_limit_renders():
    # Deeper than Python's stack allows a recursive walk, and past MAX_DEPTH: that bound is html.extract's.
    n = sys.getrecursionlimit() + 500
    assert render("<div>" * n + "deep" + "</div>" * n) == ["deep"]
    assert render("<span>" * n + "deep" + "</span>" * n) == ["deep"]
    assert render("<blockquote><section>" * n + "deep" + "</section></blockquote>" * n) == ["deep"]
    assert render('<b><a href="/x">' * n + "deep" + "</a></b>" * n) == ["[" * n + "deep" + "](https://x.test/x)" * n]
    assert render("<table><tr><td>" * n + "deep" + "</td></tr></table>" * n) == ["| deep |\n| --- |"]
    lists = render("<ul><li>i" * n + "</li></ul>" * n)
    assert len(lists) == n and lists[-1] == "  " * (n - 1) + "- i"


class Recording(ExtractionBudget):
    """A budget that keeps what each check was made while doing."""

    def __init__(self) -> None:
        super().__init__(60)
        self.doing: list[str] = []

    def check(self, doing: str) -> None:
        self.doing.append(doing)
        super().check(doing)


class Ticks:
    """A clock that moves one second each time it is read."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


PAGE = """<h2>Sharing</h2><p>We <b>never</b> sell <a href="/d">data</a>.</p>
  <ul><li>one</li><li>two</li></ul><table><tr><th>A</th></tr><tr><td>b</td></tr></table>"""


def test_every_node_is_checked_against_the_time_budget_and_past_it_is_too_slow():
    recording = Recording()
    expected = render(PAGE, budget=recording)
    assert expected[0] == "## Sharing" and len(expected) == 5
    assert recording.doing.count("rendering a list") == 2 and recording.doing.count("rendering a table") == 2
    assert recording.doing.count("rendering") >= 13  # the body, its elements and strings
    checks = len(recording.doing)
    for allowed in range(checks):  # with one second a check, the check after the last allowed fails
        with pytest.raises(ExtractionError) as caught:
            render(PAGE, budget=ExtractionBudget(allowed, clock=Ticks()))
        assert caught.value.kind == "too-slow"
        assert caught.value.detail == f"over the {allowed} s budget while {recording.doing[allowed]}"
    assert render(PAGE, budget=ExtractionBudget(checks, clock=Ticks())) == expected


def test_every_block_is_counted_against_the_text_allowance_and_past_it_is_too_large():
    assert Renderer(None, set(), ExtractionBudget()).allowance.limit == MAX_TEXT_CHARS
    counted = TextAllowance()
    blocks = render(PAGE, allowance=counted)
    assert counted.used == sum(len(block) for block in blocks)
    assert render(PAGE, allowance=TextAllowance(counted.used)) == blocks
    with pytest.raises(ExtractionError) as caught:
        render(PAGE, allowance=TextAllowance(counted.used - 1))
    assert caught.value.kind == "too-large"
    assert caught.value.detail == f"the page gives over {counted.used - 1:,} characters of text"
    # One renderer, one page: the allowance runs on across its roots.
    renderer = Renderer(BASE, set(), ExtractionBudget(), TextAllowance(10))
    assert renderer.blocks(BeautifulSoup("<p>12345</p>", "lxml").p) == ["12345"]
    with pytest.raises(ExtractionError, match="too-large"):
        renderer.blocks(BeautifulSoup("<p>678901</p>", "lxml").p)


# --- property (hypothesis): any shape of nested lists renders one line per item that has words ----------


_texts = st.sampled_from(["", "alpha", "beta gamma", "Delta."])
_leaf_lists = st.tuples(st.booleans(), st.lists(st.tuples(_texts, st.just([])), min_size=1, max_size=3))
_lists = st.recursive(
    _leaf_lists,
    lambda sub: st.tuples(
        st.booleans(), st.lists(st.tuples(_texts, st.lists(sub, max_size=2)), min_size=1, max_size=3)
    ),
    max_leaves=12,
)


def _html(listing) -> str:
    ordered, items = listing
    tag = "ol" if ordered else "ul"
    return f"<{tag}>" + "".join(f"<li>{text}{''.join(map(_html, subs))}</li>" for text, subs in items) + f"</{tag}>"


def _lines(listing, depth: int = 0) -> list[str]:
    ordered, items = listing
    lines = []
    for index, (text, subs) in enumerate(items, start=1):
        if text:
            lines.append("  " * depth + (f"{index}." if ordered else "-") + " " + text)
        for sub in subs:
            lines.extend(_lines(sub, depth + 1))
    return lines


@PROPERTY
@given(_lists)
def test_any_nested_lists_render_an_indented_line_per_item_in_order(listing):
    assert render(_html(listing)) == _lines(listing)
