"""Provisions: which matter a changed passage is about, and which way the change moves it.

The taxonomy is data (``analysis/data/provisions.json``, validated against its schema when loaded;
docs/provisions.md explains it). Each category has patterns that recognise it in a passage
or in the headings above it, a default severity, and direction rules:

- a *count* rule counts the sentences of a passage that say something (``all``/``any``
  terms present, optionally negated or not). If an unfavourable statement appears, or a
  favourable one disappears, the change is worse for users; the reverse is an improvement.
  A negation counts when it comes before the rule's last term in the same clause
  ("We will not use your Inputs ... to train" is negated; "If you do not opt out, we will
  use ... to train" is not).
- a *measure* rule compares a quantity: the longest retention period, the minimum age.

A statement is made in one clause (``negation.Clauses``: a sentence cut at ";", ": " and list
markers): its topic and its subject meet there ("train ... models" and the user's inputs; an
opt-out and training), and a clause holding one of the rule's ``unless`` terms is about
something else (the arbitration opt-out, a business transfer). Questions and definitions state
nothing. Who is bound decides whose statement it is: a rule or category about what the
platform does (``actor: platform``) does not count a clause that binds the user ("you may not",
"Customer shall not ... (c) share", "Don't share ...", a bare list item under a restrictions
heading, building competing models); ``actor: user`` counts only those (acceptable use).

Worse findings carry their rule's severity; improvements are recorded with severity low. The
findings of one passage never contradict each other (``Taxonomy.reconcile``): ``moot_if``
drops a worse finding when another rule improved, ``yields_to`` an improvement when another
rule got worse, and of a statement and its negation (``conflicts``) that moved opposite ways,
neither is kept when both grew (a practice and its limit, newly stated: a rewording) and the
worse is kept when both went (a promise dropped with its passage).

The engine's modules: ``model`` (texts, rules, findings), ``patterns`` (the data's patterns
compiled), ``findings`` (count and measure rules), ``taxonomy`` (categories and assessment),
``data`` (loading the taxonomy and the regulatory mapping).
"""

from policywatch.analysis.provisions.data import regulations, regulatory_mapping, taxonomy
from policywatch.analysis.provisions.model import (
    SEVERITIES,
    Assessment,
    Category,
    Finding,
    ProvisionsError,
    Rule,
    Text,
    rank,
)
from policywatch.analysis.provisions.taxonomy import Taxonomy

__all__ = [
    "SEVERITIES",
    "Assessment",
    "Category",
    "Finding",
    "ProvisionsError",
    "Rule",
    "Taxonomy",
    "Text",
    "rank",
    "regulations",
    "regulatory_mapping",
    "taxonomy",
]
