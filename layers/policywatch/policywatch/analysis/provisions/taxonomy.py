"""The taxonomy: which categories a passage or its headings are about, and what each change does there."""

from __future__ import annotations

import re
from typing import Any

from policywatch.analysis.blocks import sentences
from policywatch.analysis.provisions.findings import count, first_quote, measure
from policywatch.analysis.provisions.model import Assessment, Category, Rule, Text
from policywatch.analysis.provisions.patterns import compile_pattern, rule_from
from policywatch.text.plain import plain

MAX_CACHED_HEADINGS = 5_000  # heading titles whose categories are kept between passages (a policy has ~100)


class Taxonomy:
    def __init__(self, data: dict[str, Any]) -> None:
        terms = {name: re.compile(pattern) for name, pattern in data["terms"].items()}
        self._by_heading: dict[str, list[Category]] = {}  # headings repeat across passages and versions
        self.categories: dict[str, Category] = {}
        for raw in data["categories"]:
            rules = tuple(rule_from(raw["id"], r, terms) for r in raw["rules"])
            self.categories[raw["id"]] = Category(
                id=raw["id"],
                label=raw["label"],
                description=raw["description"],
                severity=raw["severity"],
                text=tuple(compile_pattern(p, data["terms"], terms) for p in raw["recognise"]["text"]),
                heading=tuple(compile_pattern(p, data["terms"], terms) for p in raw["recognise"].get("heading", [])),
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
                    finding = measure(rule, old, new)
                else:
                    finding = count(rule, old_sentences, new_sentences, heading_text)
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
                "before": first_quote(changed_old, category) or (changed_old[0].original if changed_old else ""),
                "after": first_quote(changed_new, category) or (changed_new[0].original if changed_new else ""),
            }
        assessment.rescore(self)
        return assessment
