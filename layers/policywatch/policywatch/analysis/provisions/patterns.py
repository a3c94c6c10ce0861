"""The taxonomy's patterns: ``{term}`` placeholders expanded, compiled once, rules built from the data."""

from __future__ import annotations

import re
from typing import Any

from policywatch.analysis.provisions.model import ProvisionsError, Rule

_PLACEHOLDER = re.compile(r"\{([a-z-]+)\}")


def compile_pattern(pattern: str, sources: dict[str, str], terms: dict[str, re.Pattern[str]]) -> re.Pattern[str]:
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


def rule_from(category: str, raw: dict[str, Any], terms: dict[str, re.Pattern[str]]) -> Rule:
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
        unless=patterns(raw.get("unless", [])),
        actor=raw.get("actor"),
        conflicts=tuple(raw.get("conflicts", [])),
        yields_to=tuple(raw.get("yields_to", [])),
    )
