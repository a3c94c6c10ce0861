"""What the provision engine works with: texts, rules, categories, findings, assessments."""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from policywatch.analysis.negation import Scopes
from policywatch.core.errors import InternalError
from policywatch.text.plain import plain_words

if TYPE_CHECKING:
    from policywatch.analysis.provisions.taxonomy import Taxonomy

SEVERITIES = ("none", "low", "medium", "high")


class ProvisionsError(InternalError):
    """The taxonomy or regulations data file is invalid."""


def rank(severity: str) -> int:
    return SEVERITIES.index(severity)


class Text:
    """A passage, sentence or heading, with the first match of each pattern computed once.

    Every rule and category asks the same few dozen terms of the same sentences.
    """

    __slots__ = ("original", "text", "_starts", "_key", "_scopes")

    def __init__(self, text: str) -> None:
        self.original = text
        self.text = text.lower()  # patterns are lower-case: matching without re.I is several times faster
        self._starts: dict[re.Pattern[str], int] = {}
        self._key: tuple[str, ...] | None = None
        self._scopes: Scopes | None = None

    @property
    def key(self) -> tuple[str, ...]:
        """Its words: sentences with the same words are the same sentence."""
        if self._key is None:
            self._key = plain_words(self.original)
        return self._key

    def start(self, pattern: re.Pattern[str]) -> int:
        """Where ``pattern`` first matches, or -1."""
        found = self._starts.get(pattern)
        if found is None:
            match = pattern.search(self.text)
            found = self._starts[pattern] = match.start() if match else -1
        return found

    def has(self, pattern: re.Pattern[str]) -> bool:
        return self.start(pattern) >= 0

    def negated(self, position: int) -> bool:
        """Whether a negation's scope reaches ``position`` (``negation.negated``, found once per sentence)."""
        if self._scopes is None:
            self._scopes = Scopes(self.text)
        return self._scopes.negated(position)


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    effect: str  # favourable | unfavourable
    severity: str
    worse: str
    better: str
    all: tuple[re.Pattern[str], ...] = ()
    any: tuple[re.Pattern[str], ...] = ()
    heading_may_supply: tuple[re.Pattern[str], ...] = ()
    negated: bool | None = None
    measure: str | None = None
    presence: bool = False  # only appearing or disappearing counts, not how often it is said
    list: re.Pattern[str] | None = None  # new wordings of this term widen the statement
    moot_if: tuple[str, ...] = ()  # no finding when one of these rules finds an improvement

    # builtins.list: in the class body ``list`` is the field above.
    def count(self, text_sentences: builtins.list[Text], heading: Text) -> builtins.list[Text]:
        """The sentences this rule's statement appears in."""
        return [s for s in text_sentences if self._says(s, heading)]

    def _says(self, sentence: Text, heading: Text) -> bool:
        for pattern in self.all:
            if not sentence.has(pattern) and not (pattern in self.heading_may_supply and heading.has(pattern)):
                return False
        if self.any and not any(sentence.has(p) for p in self.any):
            return False
        if self.negated is None:
            return True
        # The statement's own term: the last of ``all`` found in the sentence, else the ``any`` terms.
        anchors = [p for p in self.all if sentence.has(p)][-1:] or list(self.any)
        return any(sentence.negated(m.start()) == self.negated for p in anchors for m in p.finditer(sentence.text))

    def items(self, sentences: builtins.list[Text]) -> set[str]:
        """Distinct wordings of the ``list`` term in the sentences (recipients of sharing, ...)."""
        if self.list is None:
            return set()
        return {m.group(0) for s in sentences for m in self.list.finditer(s.text)}


@dataclass(frozen=True)
class Category:
    id: str
    label: str
    description: str
    severity: str
    text: tuple[re.Pattern[str], ...]
    heading: tuple[re.Pattern[str], ...]
    rules: tuple[Rule, ...]

    def in_text(self, text: Text) -> bool:
        return any(text.has(p) for p in self.text)

    def in_heading(self, heading: Text) -> bool:
        return any(heading.has(p) for p in self.heading)


@dataclass
class Finding:
    rule: str
    category: str
    direction: str  # worse | better
    severity: str
    says: str
    before: str = ""
    after: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "category": self.category,
            "direction": self.direction,
            "severity": self.severity,
            "says": self.says,
            "before": self.before,
            "after": self.after,
        }


@dataclass
class Assessment:
    """What one changed passage is about and which way it moved."""

    categories: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    severity: str = "low"
    quotes: dict[str, dict[str, str]] = field(default_factory=dict)  # category -> {before, after}

    def rescore(self, taxonomy: Taxonomy) -> None:
        """Severity: the worst finding's; low for improvements only; else the categories' default."""
        worse = [f.severity for f in self.findings if f.direction == "worse"]
        if worse:
            self.severity = max(worse, key=rank)
        elif self.findings:
            self.severity = "low"
        else:
            defaults = [taxonomy.categories[c].severity for c in self.categories]
            self.severity = max(defaults, key=rank) if defaults else "low"

    @property
    def direction(self) -> str:
        directions = {f.direction for f in self.findings}
        if "worse" in directions:
            return "worse"
        return "better" if directions else "neutral"
