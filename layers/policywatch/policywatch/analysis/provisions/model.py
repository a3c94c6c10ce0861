"""What the provision engine works with: texts, rules, categories, findings, assessments."""

from __future__ import annotations

import builtins
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from policywatch.analysis.negation import Clauses, Scopes
from policywatch.core.errors import InternalError
from policywatch.text.plain import plain_words

if TYPE_CHECKING:
    from policywatch.analysis.provisions.taxonomy import Taxonomy

SEVERITIES = ("none", "low", "medium", "high")

# A defined term: ("Personal Data Breach" means ..., "Credits" refers to ...).
DEFINITION = re.compile(
    r"^[\W\d]*[\"\u201c][^\"\u201d]{1,80}[\"\u201d]\W*\s+(means|refers to|shall mean|has the meaning|is defined as)\b"
)

# A heading over rules for the user: its subject-less list items ("use the Services to ...") bind the user.
RESTRICTIONS_HEADING = re.compile(
    r"\b(acceptable use|prohibit\w*|restrict\w*|(user|your|customer) (conduct|obligations|responsibilities)|"
    r"community guidelines|usage polic\w*|you (may|must|shall|will|agree) not|don'?t|what you (can'?t|cannot) do)"
)


class ProvisionsError(InternalError):
    """The taxonomy or regulations data file is invalid."""


def rank(severity: str) -> int:
    return SEVERITIES.index(severity)


class Text:
    """A passage, sentence or heading, with the first match of each pattern computed once.

    Every rule and category asks the same few dozen terms of the same sentences. A sentence is
    also read as clauses (``negation.Clauses``): a statement's terms must meet in one clause,
    and who it binds is the subject of that clause.
    """

    __slots__ = ("original", "text", "_starts", "_key", "_scopes", "_clauses", "_positions")

    def __init__(self, text: str) -> None:
        self.original = text
        self.text = text.lower()  # patterns are lower-case: matching without re.I is several times faster
        self._starts: dict[re.Pattern[str], int] = {}
        self._key: tuple[str, ...] | None = None
        self._scopes: Scopes | None = None
        self._clauses: Clauses | None = None
        self._positions: dict[re.Pattern[str], list[int]] = {}

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

    @property
    def clauses(self) -> Clauses:
        if self._clauses is None:
            self._clauses = Clauses(self.text)
        return self._clauses

    @property
    def question(self) -> bool:
        """A question states nothing ("Can we train models so that ...?")."""
        return self.text.rstrip(" *_\"'\u201d)").endswith("?")

    @property
    def definition(self) -> bool:
        """A definition states nothing either ("'Personal Data Breach' means ... unauthorized disclosure of ...")."""
        return DEFINITION.match(self.text) is not None

    def positions(self, pattern: re.Pattern[str]) -> list[int]:
        """Where ``pattern`` matches, in order (found once)."""
        found = self._positions.get(pattern)
        if found is None:
            found = self._positions[pattern] = (
                [m.start() for m in pattern.finditer(self.text)] if self.has(pattern) else []
            )
        return found

    def within(self, pattern: re.Pattern[str], start: int, end: int) -> list[int]:
        """Where ``pattern`` matches starting in ``start..end``."""
        found = self.positions(pattern)
        i = bisect_left(found, start)
        j = bisect_left(found, end, i)
        return found[i:j]

    def together(
        self, terms: tuple[re.Pattern[str], ...], *, platform: bool = False, restrictions: bool = False
    ) -> bool:
        """Whether all ``terms`` are found in one clause (a clause of the platform's, at the last term, if ``platform``)."""
        if not all(self.has(term) for term in terms):
            return False
        clauses = self.clauses
        for start, end in clauses.spans:
            if not all(self.within(term, start, end) for term in terms):
                continue
            if not platform or any(
                not clauses.binds_user(position, restrictions=restrictions)
                for position in self.within(terms[-1], start, end)
            ):
                return True
        return False

    def matches(self, pattern: re.Pattern[str], *, platform: bool = False, restrictions: bool = False) -> bool:
        """Whether ``pattern`` matches within one clause (at a statement about the platform if ``platform``)."""
        if not self.has(pattern):
            return False
        clauses = self.clauses
        for start, end in clauses.spans:
            match = pattern.search(self.text, start, end)
            if match and not (platform and clauses.binds_user(match.start(), restrictions=restrictions)):
                return True
            if match and platform:  # a later match of the clause may be the platform's
                for later in pattern.finditer(self.text, match.end(), end):
                    if not clauses.binds_user(later.start(), restrictions=restrictions):
                        return True
        return False


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
    unless: tuple[re.Pattern[str], ...] = ()  # a clause with one of these terms is about something else
    actor: str | None = None  # "platform": what the platform does (a rule for the user is not counted); "user"
    conflicts: tuple[str, ...] = ()  # its counterpart: opposite findings of the two are a rewording, not a change
    yields_to: tuple[str, ...] = ()  # no improvement found when one of these rules finds a change for the worse

    # builtins.list: in the class body ``list`` is the field above.
    def count(self, text_sentences: builtins.list[Text], heading: Text) -> builtins.list[Text]:
        """The sentences this rule's statement appears in."""
        return [s for s in text_sentences if self._says(s, heading)]

    def possible(self, text: Text, heading: Text) -> bool:
        """Whether ``text`` (a whole passage) has the rule's terms at all, or its heading supplies them."""
        # The last terms first: the topic ("train", the recipients), rarer than its subject ("content", "data").
        if not all(text.has(p) or (p in self.heading_may_supply and heading.has(p)) for p in reversed(self.all)):
            return False
        return not self.any or any(text.has(p) for p in self.any)

    def _says(self, sentence: Text, heading: Text) -> bool:
        """The statement is made in one clause of the sentence: its terms, its negation, its actor."""
        for pattern in reversed(self.all):  # the topic first: it is the rarer term
            if not sentence.has(pattern) and not (pattern in self.heading_may_supply and heading.has(pattern)):
                return False
        if self.any and not any(sentence.has(p) for p in self.any):
            return False
        if sentence.question or sentence.definition:
            return False
        restrictions = self.actor is not None and heading.has(RESTRICTIONS_HEADING)
        for start, end in sentence.clauses.spans:
            if any(sentence.within(p, start, end) for p in self.unless):
                continue
            found = [p for p in self.all if sentence.within(p, start, end)]
            if len(found) < len(self.all) and any(
                p not in found and not (p in self.heading_may_supply and heading.has(p)) for p in self.all
            ):
                continue
            any_found = [p for p in self.any if sentence.within(p, start, end)]
            if self.any and not any_found:
                continue
            # The statement's own term: the last of ``all`` found in the clause, else the ``any`` terms.
            anchors = found[-1:] or any_found
            if not anchors:  # every term supplied by the heading: the clause says it
                if self.negated is None and self.actor is None:
                    return True
                continue
            for pattern in anchors:
                for position in sentence.within(pattern, start, end):
                    if self.negated is not None and sentence.negated(position) != self.negated:
                        continue
                    if self.actor is not None and (
                        sentence.clauses.binds_user(position, restrictions=restrictions) != (self.actor == "user")
                    ):
                        continue
                    return True
        return False

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
    platform: bool = False  # about what the platform does: a clause that binds the user does not count
    # Sets of terms that say it when found together in one clause (a topic and its subject: "train" and the
    # user's content), besides the ``text`` patterns.
    together: tuple[tuple[re.Pattern[str], ...], ...] = ()

    def in_text(
        self,
        text: Text,
        heading: Text | None = None,
        candidates: tuple[builtins.list[re.Pattern[str]], builtins.list[tuple[re.Pattern[str], ...]]] | None = None,
    ) -> bool:
        """Whether a sentence says it: a pattern matched, or a set of terms found, within one clause (a clause of
        the platform's, if ``platform``). ``candidates``: the patterns and sets to try, if not all."""
        restrictions = heading is not None and heading.has(RESTRICTIONS_HEADING)
        patterns, sets = candidates if candidates is not None else (list(self.text), list(self.together))
        return any(text.matches(p, platform=self.platform, restrictions=restrictions) for p in patterns) or any(
            text.together(terms, platform=self.platform, restrictions=restrictions) for terms in sets
        )

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
