"""Provisions: which matter a changed passage is about, and which way the change moves it.

The taxonomy is data (``data/provisions.json``, validated against its schema when loaded;
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

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from policywatch.blocks import plain, sentences

SEVERITIES = ("none", "low", "medium", "high")
_CLAUSE_BREAK = re.compile(r"[,;:()]")
_PLACEHOLDER = re.compile(r"\{([a-z-]+)\}")


class ProvisionsError(Exception):
    """The taxonomy or regulations data file is invalid."""


def rank(severity: str) -> int:
    return SEVERITIES.index(severity)


class Text:
    """A passage, sentence or heading, with the first match of each pattern computed once.

    Every rule and category asks the same few dozen terms of the same sentences.
    """

    __slots__ = ("original", "text", "_starts")

    def __init__(self, text: str) -> None:
        self.original = text
        self.text = text.lower()  # patterns are lower-case: matching without re.I is several times faster
        self._starts: dict[re.Pattern[str], int] = {}

    def start(self, pattern: re.Pattern[str]) -> int:
        """Where ``pattern`` first matches, or -1."""
        found = self._starts.get(pattern)
        if found is None:
            match = pattern.search(self.text)
            found = self._starts[pattern] = match.start() if match else -1
        return found

    def has(self, pattern: re.Pattern[str]) -> bool:
        return self.start(pattern) >= 0


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

    def count(self, text_sentences: list[Text], heading: Text) -> list[str]:
        """The sentences this rule's statement appears in."""
        return [s.original for s in text_sentences if self._says(s, heading)]

    def _says(self, sentence: Text, heading: Text) -> bool:
        anchor = -1
        for pattern in self.all:
            start = sentence.start(pattern)
            if start < 0:
                if pattern in self.heading_may_supply and heading.has(pattern):
                    continue
                return False
            anchor = max(anchor, start)
        if self.any:
            starts = [start for start in (sentence.start(p) for p in self.any) if start >= 0]
            if not starts:
                return False
            anchor = max(anchor, min(starts))
        if self.negated is None:
            return True
        return _negated(sentence.text, anchor) == self.negated


_NEGATION = re.compile(r"\b(not|never|no longer|won't|don't|doesn't|do not|does not|will not|cannot|can't)\b")


def _negated(sentence: str, anchor: int) -> bool:
    """A negation before ``anchor`` in the same clause."""
    last = None
    for match in _NEGATION.finditer(sentence, 0, max(anchor, 0)):
        last = match
    return last is not None and not _CLAUSE_BREAK.search(sentence, last.end(), anchor)


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

    @property
    def direction(self) -> str:
        directions = {f.direction for f in self.findings}
        if "worse" in directions:
            return "worse"
        return "better" if directions else "neutral"


class Taxonomy:
    def __init__(self, data: dict[str, Any]) -> None:
        terms = {name: re.compile(pattern) for name, pattern in data["terms"].items()}
        self.terms = terms
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
        old_keys = {_key(s.text) for s in old_sentences}
        new_keys = {_key(s.text) for s in new_sentences}
        changed_old = [s for s in old_sentences if _key(s.text) not in new_keys]
        changed_new = [s for s in new_sentences if _key(s.text) not in old_keys]
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
        assessment.categories = categories
        for cid in categories:
            category = self.categories[cid]
            assessment.quotes[cid] = {
                "before": _first(changed_old, category) or (changed_old[0].original if changed_old else ""),
                "after": _first(changed_new, category) or (changed_new[0].original if changed_new else ""),
            }
        worse = [f.severity for f in assessment.findings if f.direction == "worse"]
        if worse:
            assessment.severity = max(worse, key=rank)
        elif assessment.findings:
            assessment.severity = "low"
        else:
            defaults = [self.categories[c].severity for c in categories]
            assessment.severity = max(defaults, key=rank) if defaults else "low"
        return assessment


def _key(sentence: str) -> str:
    return " ".join(re.findall(r"\w+", sentence.lower()))


def _first(candidates: list[Text], category: Category) -> str:
    return next((s.original for s in candidates if category.in_text(s)), "")


def _count(rule: Rule, old: list[Text], new: list[Text], heading: Text) -> Finding | None:
    before, after = rule.count(old, heading), rule.count(new, heading)
    if len(before) == len(after):
        return None
    grew = len(after) > len(before)
    worse = grew == (rule.effect == "unfavourable")
    new_keys = {_key(s) for s in after}
    old_keys = {_key(s) for s in before}
    return Finding(
        rule=rule.id,
        category=rule.category,
        direction="worse" if worse else "better",
        severity=rule.severity if worse else "low",
        says=rule.worse if worse else rule.better,
        before=next((s for s in before if _key(s) not in new_keys), before[0] if before else ""),
        after=next((s for s in after if _key(s) not in old_keys), after[0] if after else ""),
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


def _durations(text: str) -> list[int]:
    out = []
    for number, unit in _DURATION.findall(text):
        value = int(number) if number.isdigit() else _NUMBERS[number.lower()]
        out.append(value * _UNIT_DAYS[unit.lower()])
    return out


def _ages(text: str) -> list[int]:
    return [int(a or b) for a, b in _AGE.findall(text) if 8 <= int(a or b) <= 25]


def _describe(measure: str, value: int) -> str:
    if measure == "age":
        return str(value)
    for unit, days in (("year", 365), ("month", 30), ("week", 7), ("day", 1)):
        if value % days == 0:
            n = value // days
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{value} days"


def _measure(rule: Rule, old: str, new: str) -> Finding | None:
    extract = _durations if rule.measure == "duration" else _ages
    before, after = extract(old), extract(new)
    if not before or not after:
        return None
    old_value, new_value = max(before), max(after)
    if old_value == new_value:
        return None
    worse = (new_value > old_value) == (rule.effect == "unfavourable")
    says = rule.worse if worse else rule.better
    return Finding(
        rule=rule.id,
        category=rule.category,
        direction="worse" if worse else "better",
        severity=rule.severity if worse else "low",
        says=f"{says} ({_describe(rule.measure or '', old_value)} \u2192 {_describe(rule.measure or '', new_value)})",
        before=next((s for s in sentences(old) if extract(s)), ""),
        after=next((s for s in sentences(new) if extract(s)), ""),
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
    )


def _load(name: str) -> dict[str, Any]:
    package = resources.files("policywatch") / "data"
    data = json.loads((package / f"{name}.json").read_text())
    schema = json.loads((package / f"{name}.schema.json").read_text())
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
            raise ProvisionsError(f"data/regulations.json: {category}: unknown regulations {sorted(unknown)}")
    missing = set(taxonomy().categories) - set(data["categories"])
    if missing:
        raise ProvisionsError(f"data/regulations.json: no mapping for categories {sorted(missing)}")
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
