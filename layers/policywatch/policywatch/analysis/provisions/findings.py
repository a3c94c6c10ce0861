"""How a rule's finding is reached: a *count* rule over sentences, a *measure* rule over quantities."""

from __future__ import annotations

import re

from policywatch.analysis.blocks import sentences
from policywatch.analysis.provisions.model import Category, Finding, Rule, Text


def first_quote(candidates: list[Text], category: Category) -> str:
    return next((s.original for s in candidates if category.in_text(s)), "")


def count(rule: Rule, old: list[Text], new: list[Text], heading: Text) -> Finding | None:
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


def measure(rule: Rule, old: str, new: str) -> Finding | None:
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
