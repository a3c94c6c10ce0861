"""Negation's scopes: the same answers as ``negated`` on any sentence, in linear time on long ones (issue 11);
who a clause binds, on real sentences (issue 13)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policywatch.analysis.negation import Clauses, Scopes, negated

# Negation on long sentences (issue 11): ``negation.negated`` reads the sentence from its start
# up to each term; ``Scopes`` answers every term of a sentence from one reading, the same way.
_CLAUSE = st.sampled_from(
    ["not", "never", "no longer", "won't", "do not", "does not", "cannot", "don't", ";", ",", ", but", "unless",
     "and will", "or we", "even if", "however", "we", "you", "shall", " ", "  ", "\t", "train", "x", "nota", "anot",
     ".", "'", "n", "o", "t", "no", "none", "nor", "no later", " later", "excluding", "prohibit", "no more"]
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


def test_no_and_none_negate_but_not_a_time_limit():
    assert negated("no sale or targeted advertising", len("no sale or "))
    assert negated("none of your code will ever be trained on", len("none of your code will ever be "))
    assert negated("we prohibit the sale of google user data", len("we prohibit the "))
    assert not negated("deleted no later than 30 days after the session", len("deleted no later than 30 "))


# --- Who is bound (issue 13) ------------------------------------------------------------
# Policy text: Open Terms Archive GenAI collection, ODC-By 1.0 (../shared/corpus/genai-contrib.bundle):
# real sentences, lower-cased as the provision engine reads them; the term asked about is the second argument.

BINDS = [
    # A rule for the user: "you may not", "customer will not ... permit end users to: (c) ...".
    ("you may not make account access credentials available to third parties, share individual login credentials",
     "third parties", True),  # ChatGPT Platform to Business Notice #10
    ("customer will not, and will not permit end users to: (a) use the services in a way that violates applicable "
     "laws; (b) share customer content with third parties", "share", True),  # ChatGPT Platform to Business Notice #11
    ("* not use outputs to develop model(s) that compete with mistral ai and/or to reverse-engineer our services.",
     "develop", True),  # Mistral AI Terms of Service #1
    ("don't share output from our services to defraud, scam, spam, mislead, bully, harass, defame, discriminate",
     "share", True),  # DALL-E Acceptable Use Policy #14
    ("anysphere will not use content to train, or allow any third party to train, any ai models, unless you've "
     "explicitly agreed to the use of content for training.", "training.", True),  # Cursor Terms of Service #3
    # What the platform does or promises: "we will", "xai shall not", a passive subject.
    ("anysphere will not use content to train, or allow any third party to train, any ai models, unless you've "
     "explicitly agreed to the use of content for training.", "train,", False),
    ("if you do not opt out, we will use your content to train our models.", "train", False),
    ("for clarity, subject to section 3.2, xai shall not use any user content for any of its internal ai or other "
     "training purposes", "training", False),  # Grok Commercial Terms #5
    ("we may use your inputs and outputs to train our models and improve our services, unless you opt out through "
     "your account settings.", "train", False),  # Claude.ai Privacy Policy, 2025-08-29
]  # fmt: skip


@pytest.mark.parametrize(("sentence", "term", "user"), BINDS)
def test_who_a_statement_binds(sentence, term, user):
    assert Clauses(sentence).binds_user(sentence.index(term)) is user


def test_a_subject_less_item_under_a_restrictions_heading_binds_the_user():
    # Policy text: Open Terms Archive GenAI collection, ODC-By 1.0 (Lovable Terms of Service #3).
    item = "use the services, ai output, or prompts to train, develop, or improve competing ai models."
    plain = "resell, provide, or make the services available to any third party on a service bureau basis;"
    assert Clauses(item).binds_user(item.index("train"))  # building competing models: the customer's
    assert not Clauses(plain).binds_user(plain.index("third party"))
    assert Clauses(plain).binds_user(plain.index("third party"), restrictions=True)


def test_clauses_end_at_semicolons_colons_and_list_markers():
    sentence = "we will not use your inputs to train our models, unless: (1) they are flagged; or (2) you report them"
    assert [sentence[a:b] for a, b in Clauses(sentence).spans] == [
        "we will not use your inputs to train our models, unless: ",
        "(1) they are flagged; ",
        "or ",
        "(2) you report them",
    ]
