"""Negation's scopes: the same answers as ``negated`` on any sentence, in linear time on long ones (issue 11)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from policywatch.analysis.negation import Scopes, negated

# Negation on long sentences (issue 11): ``negation.negated`` reads the sentence from its start
# up to each term; ``Scopes`` answers every term of a sentence from one reading, the same way.
_CLAUSE = st.sampled_from(
    ["not", "never", "no longer", "won't", "do not", "does not", "cannot", "don't", ";", ",", ", but", "unless",
     "and will", "or we", "even if", "however", "we", "you", "shall", " ", "  ", "\t", "train", "x", "nota", "anot",
     ".", "'", "n", "o", "t"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(_CLAUSE, max_size=40).map("".join))
def test_scopes_answer_as_negated_does_at_every_position(sentence):
    scopes = Scopes(sentence)
    assert [scopes.negated(p) for p in range(len(sentence) + 1)] == [
        negated(sentence, p) for p in range(len(sentence) + 1)
    ]


def test_scopes_answer_as_negated_does_far_from_the_start():
    sentence = "we do not, in any case, " + "share data and train models with partners " * 40 + "; we train"
    scopes = Scopes(sentence)
    assert [scopes.negated(p) for p in range(len(sentence) + 1)] == [
        negated(sentence, p) for p in range(len(sentence) + 1)
    ]
