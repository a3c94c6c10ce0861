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

Worse findings carry their rule's severity; improvements are recorded with severity low.
"""

from __future__ import annotations

import builtins
import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from policywatch.analysis.blocks import plain, plain_words, sentences
from policywatch.analysis.negation import Scopes
from policywatch.core.errors import InternalError

SEVERITIES = ("none", "low", "medium", "high")
MAX_CACHED_HEADINGS = 5_000  # heading titles whose categories are kept between passages (a policy has ~100)
_PLACEHOLDER = re.compile(r"\{([a-z-]+)\}")


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


class Taxonomy:
    def __init__(self, data: dict[str, Any]) -> None:
        terms = {name: re.compile(pattern) for name, pattern in data["terms"].items()}
        self._by_heading: dict[str, list[Category]] = {}  # headings repeat across passages and versions
        self.categories: dict[str, Category] = {}
        for raw in data["categories"]:
            rules = tuple(_rule(raw["id"], r, terms) for r in raw["rules"])
            self.categories[raw["id"]] = Category(
                id=raw["id"],
                label=raw["label"],
                description=raw["description"],
                severity=raw["severity"],
                text=tuple(_compile(p, data["terms"], terms) for p in raw["recognise"]["text"]),
                heading=tuple(_compile(p, data["terms"], terms) for p in raw["recognise"].get("heading", [])),
                rules=rules,
            )
        self.rules = {r.id: r for c in self.categories.values() for r in c.rules}

    def rule(self, rule_id: str) -> Rule:
        return self.rules[rule_id]

    def says_anywhere(self, rule_id: str, passages: list[str] | list[Text]) -> bool:
        """Whether any sentence of a whole document (its passages, made plain) says what the rule looks for.

        Passages lacking one of the rule's terms are skipped before they are split into sentences
        (given as ``Text``, shared by several rules, each term is looked for once).
        """
        rule = self.rule(rule_id)
        for passage in passages:
            text = passage if isinstance(passage, Text) else Text(passage)
            if not all(text.has(p) for p in rule.all) or (rule.any and not any(text.has(p) for p in rule.any)):
                continue
            if rule.count([Text(s) for s in sentences(text.original)], Text("")):
                return True
        return False

    def label(self, category: str) -> str:
        return self.categories[category].label

    def recognise(self, text: str | Text, heading: str = "") -> list[str]:
        """Categories of a passage: by its own words, else by the nearest heading that says."""
        passage = text if isinstance(text, Text) else Text(text)
        found = [c.id for c in self.categories.values() if c.in_text(passage)]
        if found or not heading:
            return found
        for title in reversed(heading.split(" > ")):
            found = [c.id for c in self._heading_categories(title)]
            if found:
                return found
        return []

    def _heading_categories(self, title: str) -> list[Category]:
        cached = self._by_heading.get(title)
        if cached is None:
            if len(self._by_heading) >= MAX_CACHED_HEADINGS:  # the taxonomy outlives a document: bounded
                self._by_heading.clear()
            text = Text(title)
            cached = self._by_heading[title] = [c for c in self.categories.values() if c.in_heading(text)]
        return cached

    def assess(self, before: str, after: str, heading: str, *, kind: str = "paragraph") -> Assessment:
        """Categories and direction of a passage that went from ``before`` to ``after`` ("" if none).

        A heading is recognised but has no direction: what it announces is in the passages below.
        """
        return self.assess_plain(plain(before), plain(after), heading, kind=kind)

    def assess_plain(self, old: str, new: str, heading: str, *, kind: str = "paragraph") -> Assessment:
        """``assess`` of texts already made plain (``blocks.plain``)."""
        old_sentences = [Text(s) for s in sentences(old)]
        new_sentences = [Text(s) for s in sentences(new)]
        old_keys = {s.key for s in old_sentences}
        new_keys = {s.key for s in new_sentences}
        changed_old = [s for s in old_sentences if s.key not in new_keys]
        changed_new = [s for s in new_sentences if s.key not in old_keys]
        changed = Text(" ".join(s.original for s in changed_old + changed_new))
        categories = [c.id for c in self.categories.values() if c.in_text(changed)]
        if not categories:  # the changed words do not say: the section they are in does
            categories = self.recognise("", heading)
        heading_text = Text(heading)
        assessment = Assessment()
        for category in self.categories.values() if kind != "heading" else ():
            for rule in category.rules:
                if rule.measure:
                    if category.id not in categories:
                        continue
                    finding = _measure(rule, old, new)
                else:
                    finding = _count(rule, old_sentences, new_sentences, heading_text)
                if finding:
                    assessment.findings.append(finding)
                    if category.id not in categories:
                        categories.append(category.id)
        better = {f.rule for f in assessment.findings if f.direction == "better"}
        moot = {r.id for c in self.categories.values() for r in c.rules if set(r.moot_if) & better}
        assessment.findings = [f for f in assessment.findings if not (f.direction == "worse" and f.rule in moot)]
        assessment.categories = categories
        for cid in categories:
            category = self.categories[cid]
            assessment.quotes[cid] = {
                "before": _first(changed_old, category) or (changed_old[0].original if changed_old else ""),
                "after": _first(changed_new, category) or (changed_new[0].original if changed_new else ""),
            }
        assessment.rescore(self)
        return assessment


def _first(candidates: list[Text], category: Category) -> str:
    return next((s.original for s in candidates if category.in_text(s)), "")


def _count(rule: Rule, old: list[Text], new: list[Text], heading: Text) -> Finding | None:
    before, after = rule.count(old, heading), rule.count(new, heading)
    n_before, n_after = (bool(before), bool(after)) if rule.presence else (len(before), len(after))
    added = rule.items(after) - rule.items(before) if before and after else set()
    removed = rule.items(before) - rule.items(after) if before and after else set()
    if n_before == n_after and not added and not removed:
        return None
    grew = n_after > n_before or (n_after == n_before and bool(added))
    worse = grew == (rule.effect == "unfavourable")
    says = rule.worse if worse else rule.better
    wording = added if grew else removed
    if n_before == n_after and wording:
        says = f"{says} ({', '.join(sorted(wording))})"
    old_keys = {s.key for s in before}
    new_keys = {s.key for s in after}
    return Finding(
        rule=rule.id,
        category=rule.category,
        direction="worse" if worse else "better",
        severity=rule.severity if worse else "low",
        says=says,
        before=next((s.original for s in before if s.key not in new_keys), before[0].original if before else ""),
        after=next((s.original for s in after if s.key not in old_keys), after[0].original if after else ""),
    )


_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "sixteen": 16, "eighteen": 18, "thirty": 30,
    "sixty": 60, "ninety": 90,
}  # fmt: skip
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
_DURATION = re.compile(r"\b(\d{1,4}|" + "|".join(_NUMBERS) + r")(?:\s*\(\d+\))?[\s-]*(day|week|month|year)s?\b", re.I)
_AGE = re.compile(
    r"\b(?:under|below|younger than|at least|over|older than|aged?|minimum age of|age of)\s+(?:the age of\s+)?(\d{1,2})\b"
    r"|\b(\d{1,2})\s*(?:years? (?:of age|old)|\+|or older|and (?:over|older|up))",
    re.I,
)


def _durations(text: str) -> list[tuple[int, str]]:
    """Retention periods stated, in days, with the policy's own wording."""
    out = []
    for match in _DURATION.finditer(text):
        number, unit = match.group(1), match.group(2)
        value = int(number) if number.isdigit() else _NUMBERS[number.lower()]
        out.append((value * _UNIT_DAYS[unit.lower()], match.group(0)))
    return out


def _ages(text: str) -> list[tuple[int, str]]:
    out = []
    for match in _AGE.finditer(text):
        age = int(match.group(1) or match.group(2))
        if 8 <= age <= 25:
            out.append((age, match.group(0)))
    return out


def _measure(rule: Rule, old: str, new: str) -> Finding | None:
    """Compare a quantity: the longest retention period; every age limit, lowest to highest."""
    extract = _durations if rule.measure == "duration" else _ages
    before, after = sorted(extract(old)), sorted(extract(new))
    if not before or not after:
        return None
    if rule.measure == "duration":
        pairs = [(before[-1], after[-1])]
    elif len(before) == len(after):
        pairs = list(zip(before, after, strict=True))
    else:
        pairs = [(before[0], after[0]), (before[-1], after[-1])]
    changed = [(b, a) for b, a in pairs if b[0] != a[0]]
    if not changed:
        return None
    lower = [(b, a) for b, a in changed if a[0] < b[0]]
    (old_value, old_words), (new_value, new_words) = (lower or changed)[0]
    worse = (new_value > old_value) == (rule.effect == "unfavourable")
    says = rule.worse if worse else rule.better
    return Finding(
        rule=rule.id,
        category=rule.category,
        direction="worse" if worse else "better",
        severity=rule.severity if worse else "low",
        says=f"{says} ({old_value} \u2192 {new_value})"
        if rule.measure == "age"
        else f"{says} ({old_words} \u2192 {new_words})",
        before=next((s for s in sentences(old) if old_words in s), ""),
        after=next((s for s in sentences(new) if new_words in s), ""),
    )


def _compile(pattern: str, sources: dict[str, str], terms: dict[str, re.Pattern[str]]) -> re.Pattern[str]:
    """A recognition pattern; one that is just ``{term}`` is the term's own compiled pattern."""
    whole = re.fullmatch(r"\{([a-z-]+)\}", pattern)
    if whole and whole.group(1) in terms:
        return terms[whole.group(1)]
    return re.compile(_expand(pattern, sources))


def _expand(pattern: str, terms: dict[str, str]) -> str:
    """``{term}`` in a recognition pattern stands for the named term's pattern."""

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in terms:
            raise ProvisionsError(f"unknown term {{{name}}} in pattern {pattern!r}")
        return f"(?:{terms[name]})"

    return _PLACEHOLDER.sub(sub, pattern)


def _rule(category: str, raw: dict[str, Any], terms: dict[str, re.Pattern[str]]) -> Rule:
    def patterns(names: list[str]) -> tuple[re.Pattern[str], ...]:
        missing = [n for n in names if n not in terms]
        if missing:
            raise ProvisionsError(f"rule {raw['id']}: unknown terms {missing}")
        return tuple(terms[n] for n in names)

    return Rule(
        id=raw["id"],
        category=category,
        effect=raw["effect"],
        severity=raw["severity"],
        worse=raw["worse"],
        better=raw["better"],
        all=patterns(raw.get("all", [])),
        any=patterns(raw.get("any", [])),
        heading_may_supply=patterns(raw.get("heading_may_supply", [])),
        negated=raw.get("negated"),
        measure=raw.get("measure"),
        presence=raw.get("presence", False),
        list=terms[raw["list"]] if "list" in raw else None,
        moot_if=tuple(raw.get("moot_if", [])),
    )


def _load(name: str) -> dict[str, Any]:
    package = resources.files(__package__) / "data"
    data = json.loads((package / f"{name}.json").read_text())
    schema = json.loads((package / f"{name}.schema.json").read_text())
    import jsonschema  # here: the data is checked once, when first loaded

    try:
        jsonschema.validate(data, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise ProvisionsError(f"data/{name}.json: {where}: {exc.message}") from None
    return data


@cache
def taxonomy() -> Taxonomy:
    return Taxonomy(_load("provisions"))


@cache
def regulations() -> dict[str, Any]:
    data = _load("regulations")
    known = set(data["regulations"])
    for category, mapping in data["categories"].items():
        unknown = {e["regulation"] for e in mapping["engages"]} - known
        if unknown:
            raise ProvisionsError(f"analysis/data/regulations.json: {category}: unknown regulations {sorted(unknown)}")
    missing = set(taxonomy().categories) - set(data["categories"])
    if missing:
        raise ProvisionsError(f"analysis/data/regulations.json: no mapping for categories {sorted(missing)}")
    return data


def regulatory_mapping(category: str) -> dict[str, Any]:
    """What a category engages: exposure level, jurisdictions and each reference with its reason."""
    data = regulations()
    mapping = data["categories"][category]
    engages = [
        {
            "regulation": data["regulations"][e["regulation"]]["short"],
            "reference": e["reference"],
            "reason": e["reason"],
            "jurisdiction": data["regulations"][e["regulation"]]["jurisdiction"],
        }
        for e in mapping["engages"]
    ]
    return {
        "exposure": mapping["exposure"],
        "jurisdictions": sorted({e["jurisdiction"] for e in engages}),
        "engages": engages,
    }
