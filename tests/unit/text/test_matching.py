"""Budgeted matching (issue 11): SequenceMatcher's exact opcodes within the budget, ``Overrun`` past it,
and coarse opcodes that still cover both sequences in order."""

from __future__ import annotations

import difflib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policywatch.text.matching import Allowance, BudgetedMatcher, Overrun, coarse_opcodes, common_ends


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from("abcdef"), max_size=30),
    st.lists(st.sampled_from("abcdef"), max_size=30),
)
def test_the_budgeted_matcher_is_sequence_matcher_within_its_budget(a, b):
    """Exactly SequenceMatcher's opcodes with enough budget; ``Overrun`` with one step less."""
    expected = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    enough = Allowance(10**9)
    assert BudgetedMatcher(a, b, enough).get_opcodes() == expected
    assert BudgetedMatcher(a, b, Allowance(enough.used)).get_opcodes() == expected
    with pytest.raises(Overrun):
        BudgetedMatcher(a, b, Allowance(enough.used - 1)).get_opcodes()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from("abcdefgh"), max_size=40),
    st.lists(st.sampled_from("abcdefgh"), max_size=40),
)
def test_coarse_opcodes_cover_both_sequences_in_order(a, b):
    opcodes = coarse_opcodes(a, b)
    i = j = 0
    for tag, i1, i2, j1, j2 in opcodes:
        assert (i1, j1) == (i, j) and i1 <= i2 and j1 <= j2
        if tag == "equal":
            assert a[i1:i2] == b[j1:j2] and i2 > i1
        i, j = i2, j2
    assert (i, j) == (len(a), len(b))


def test_common_ends_never_overlap_and_read_words_as_well_as_characters():
    assert common_ends(("we", "may", "share", "data"), ("we", "will", "share", "data")) == (1, 2)
    assert common_ends("aaa", "aaaa") == (3, 0)  # the tail is counted past the shared start
    assert common_ends((), ("x",)) == (0, 0)
    assert common_ends("same", "same") == (4, 0)
