"""The taxonomy: which categories a passage or its headings are about, and what each change does there."""

from __future__ import annotations

import re
from typing import Any

from policywatch.analysis.blocks import sentences
from policywatch.analysis.provisions.findings import count, first_quote, measure
from policywatch.analysis.provisions.model import Assessment, Category, Finding, ProvisionsError, Rule, Text
from policywatch.analysis.provisions.patterns import compile_fast, compile_pattern, rule_from
from policywatch.text.plain import plain

MAX_CACHED_HEADINGS = 5_000  # heading titles whose categories are kept between passages (a policy has ~100)


class Taxonomy:
    def __init__(self, data: dict[str, Any]) -> None:
        terms = {name: compile_fast(pattern) for name, pattern in data["terms"].items()}
        self._all_terms = tuple(terms.values())
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
                platform=raw.get("actor") == "platform",
                together=tuple(self._terms(raw["id"], names, terms) for names in raw["recognise"].get("together", [])),
            )
        self.rules = {r.id: r for c in self.categories.values() for r in c.rules}
        self._conflicts: dict[str, set[str]] = {}  # symmetric: a pair contradicts either way round
        for rule in self.rules.values():
            for other in (*rule.conflicts, *rule.yields_to, *rule.moot_if):
                if other not in self.rules:
                    raise ProvisionsError(f"rule {rule.id}: names unknown rule {other}")
            for other in rule.conflicts:
                self._conflicts.setdefault(rule.id, set()).add(other)
                self._conflicts.setdefault(other, set()).add(rule.id)

    @staticmethod
    def _terms(category: str, names: list[str], terms: dict[str, re.Pattern[str]]) -> tuple[re.Pattern[str], ...]:
        missing = [n for n in names if n not in terms]
        if missing:
            raise ProvisionsError(f"category {category}: unknown terms {missing}")
        return tuple(terms[n] for n in names)

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

    def same_terms(self, old: str, new: str) -> bool:
        """Whether every term of the taxonomy (training, sharing, minors, a negation, a modal of
        prohibition...) occurs as often in ``new`` as in ``old``: a word changed outside them all
        touches nothing a provision rule reads."""
        a, b = old.lower(), new.lower()
        return all(len(t.findall(a)) == len(t.findall(b)) for t in self._all_terms)

    def label(self, category: str) -> str:
        return self.categories[category].label

    def recognise(self, text: str | Text, heading: str = "") -> list[str]:
        """Categories of a passage: by its own words (a pattern within one clause), else by the nearest heading that says."""
        passage = text if isinstance(text, Text) else Text(text)
        found = (
            self._in_sentences([Text(s) for s in sentences(passage.original)], Text(heading)) if passage.text else []
        )
        if found or not heading:
            return found
        for title in reversed(heading.split(" > ")):
            found = [c.id for c in self._heading_categories(title)]
            if found:
                return found
        return []

    def _in_sentences(self, found_in: list[Text], heading: Text) -> list[str]:
        """Categories said by any of the sentences (in one clause of one of them).

        Each pattern is first looked for in the sentences joined: only the few that match there
        are looked for sentence by sentence.
        """
        if not found_in:
            return []
        joined = found_in[0] if len(found_in) == 1 else Text(" ".join(s.original for s in found_in))
        found = []
        for category in self.categories.values():
            patterns = [p for p in category.text if joined.has(p)]
            sets = [terms for terms in category.together if all(joined.has(t) for t in terms)]
            if (patterns or sets) and any(category.in_text(s, heading, (patterns, sets)) for s in found_in):
                found.append(category.id)
        return found

    def reconcile(self, findings: list[Finding], *, whole_change: bool = False) -> list[Finding]:
        """Findings that do not contradict each other.

        In one passage:

        - ``moot_if``: a change for the worse is dropped when a named rule finds an improvement
          (no opt-out to lose where the training itself is dropped);
        - ``yields_to``: an improvement is dropped when a named rule finds a change for the worse
          (credits refunded but fees made non-refundable: the worse one is said);
        - ``conflicts``: a statement and its negation ("we share" / "we do not share") that moved
          opposite ways. Both said more ("widens sharing" and "now promises not to share"): the
          passage now states a practice and its limit, a rewording; neither finding is kept.
          Both said less: a promise went with the passage, and the worse finding is kept
          ("drops a promise not to share", not also "narrows sharing").

        ``whole_change``: the findings of one category over the passages of a change (a provision
        entry). Passages say different things, and each was reconciled already: of a statement
        and its negation moved opposite ways in different passages, the worse finding is said
        ("widens sharing", not also "now promises not to share"); no severity changes.
        """
        better = {f.rule for f in findings if f.direction == "better"}
        worse = {f.rule for f in findings if f.direction == "worse"}
        kept = []
        for finding in findings:
            rule = self.rules[finding.rule]
            conflicting = self._conflicts.get(finding.rule, set())
            if whole_change:
                if not (finding.direction == "better" and conflicting & worse):
                    kept.append(finding)
                continue
            if finding.direction == "worse" and set(rule.moot_if) & better:
                continue
            if finding.direction == "better" and set(rule.yields_to) & worse:
                continue
            opposite = (better if finding.direction == "worse" else worse) & conflicting
            grew = (finding.direction == "worse") == (rule.effect == "unfavourable")
            if opposite and (grew or finding.direction == "better"):
                continue
            kept.append(finding)
        return kept

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
        heading_text = Text(heading)
        categories = self._in_sentences(changed_old + changed_new, heading_text)
        if not categories:  # the changed words do not say: the section they are in does
            categories = self.recognise("", heading)
        assessment = Assessment()
        # A rule whose terms neither text has says nothing in any of its sentences (a text of one sentence is it).
        whole = tuple(
            found[0] if len(found) == 1 else Text(text) for found, text in ((old_sentences, old), (new_sentences, new))
        )
        for category in self.categories.values() if kind != "heading" else ():
            for rule in category.rules:
                if rule.measure:
                    if category.id not in categories:
                        continue
                    finding = measure(rule, old, new)
                elif not any(rule.possible(text, heading_text) for text in whole):
                    continue
                else:
                    finding = count(rule, old_sentences, new_sentences, heading_text)
                if finding:
                    assessment.findings.append(finding)
                    if category.id not in categories:
                        categories.append(category.id)
        assessment.findings = self.reconcile(assessment.findings)
        assessment.categories = categories
        for cid in categories:
            category = self.categories[cid]
            assessment.quotes[cid] = {
                "before": first_quote(changed_old, category) or (changed_old[0].original if changed_old else ""),
                "after": first_quote(changed_new, category) or (changed_new[0].original if changed_new else ""),
            }
        assessment.rescore(self)
        return assessment
