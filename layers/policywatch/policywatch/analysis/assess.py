"""Change analysis: the kind, severity, provisions, summary, effective date and dating of a change.

One function, ``analyse``, used by the diff Lambda, ``policywatch diff`` and ``policywatch
replay`` alike, so what the command line shows is what subscribers would have received.

Kinds, in order of precedence:
- ``technical``: the new version was rebuilt from a stored snapshot after an extractor or
  declaration change (``policywatch reextract``); never alerts.
- ``flap``: the new text is one the document had before the previous version: the same
  after the noise rules (its fingerprint), or the same words a reader reads (its words key):
  a page alternating between two renderings or between an error page and the policy, a
  change undone. The memory covers the whole history (issue 13: months-long flaps came
  back as alerts past a ten-version window); never alerts.
- ``substantive``: words of the policy changed; the only kind that alerts.
- ``date-only``: nothing but dates, or lines that only state a date, changed.
- ``cosmetic``: formatting, typography, link targets, tokens, page chrome, moves.

Budgets: provisions are read in the changed passages up to ``ASSESS_UNITS`` (characters,
plus ``PASSAGE_UNITS`` for each passage): twice what the largest real change needs (a 630 KB
privacy statement rewritten). Past it a passage is read on its changed stretch only, then not
at all (its categories come from its heading, its severity is their default, or medium when
none); the record's ``limits`` says so and the summary ends with a sentence that says so.
A change is never dropped for being big.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from policywatch.analysis import dates
from policywatch.analysis.blocks import Block, parse
from policywatch.analysis.diff import BlockChange, Comparison, compare, quote
from policywatch.analysis.provisions import Assessment, Finding, Text, rank, regulatory_mapping, taxonomy
from policywatch.text.matching import common_ends, common_length
from policywatch.text.noise import fingerprint as fingerprint_of

MAX_QUOTES_PER_PROVISION = 3
WORDS_KEY_CHARS = 32  # hex digits of a words key: 128 bits
MAX_SUMMARY_FINDINGS = 3
# Changed passages a record lists (the most in a real change: 1,287). Validating a record
# takes 0.4 ms a passage, and a record of 40,000 would be tens of megabytes.
MAX_RECORD_BLOCKS = 3_000
MAX_HEADING_CHARS = 2_000  # a heading path in the record (real ones: 630 at most)
ASSESS_UNITS = 1_200_000  # provisions: characters of changed passages read, plus PASSAGE_UNITS each
PASSAGE_UNITS = 300  # what reading one passage costs besides its characters (the real maximum: 610,000 in all)
STRETCH_MARGIN = 1_000  # characters kept either side of a passage's changed stretch, past the budget
# Whole-document checks of presence rules (``_drop_moved_statements``): characters times rules.
MOVED_CHECK_UNITS = 20_000_000  # the largest real document: 632,000 characters, 10 presence rules
MAX_SUMMARY_CHARS = 600  # the schema's limit
LIMITED = " Too large to analyse in full: parts were compared coarsely."  # the record's ``limits`` says which parts

_NOISE_WORDS = {
    "formatting": "reformatted",
    "link": "with other link targets",
    "label": "page labels",
    "navigation": "table-of-contents entries",
    "moved": "moved unchanged",
    "date": "dates",
    "chrome": "page chrome (menus, footers, banners, widgets)",
    "unbundled": "passages of documents the page no longer carries",
    "wording": "minor rewordings (typos, a filler word, renumbered references, a few words no provision reads)",
}


@dataclass
class Analysis:
    kind: str
    severity: str
    direction: str
    summary: str
    effective_date: date | None
    effective_date_changed: bool
    comparison: Comparison
    assessments: dict[int, Assessment] = field(default_factory=dict)  # id(BlockChange) -> assessment
    provisions: list[dict[str, Any]] = field(default_factory=list)
    dating: dict[str, Any] | None = None  # the dates each version states for itself, and the flag (dates.dating)
    _headings: dict[str, str] = field(default_factory=dict, repr=False)
    _words_key: str = field(default="", repr=False)

    @property
    def words_key(self) -> str:
        """The new version's words key (``words_key``), for the document's memory of texts."""
        if not self._words_key:
            self._words_key = words_key(self.comparison.new_blocks)
        return self._words_key

    def heading(self, path: str) -> str:
        """A heading path as the record shows it: at most ``MAX_HEADING_CHARS``, cut once per
        path (the passages under one heading share the copy: a megabyte heading over thousands
        of passages would otherwise be thousands of copies)."""
        if len(path) <= MAX_HEADING_CHARS:
            return path
        if path not in self._headings:
            self._headings[path] = path[: MAX_HEADING_CHARS - 1] + "\u2026"
        return self._headings[path]

    @property
    def alert(self) -> bool:
        return self.kind == "substantive"

    @property
    def categories(self) -> list[str]:
        return [p["id"] for p in self.provisions]

    def counts(self) -> dict[str, int]:
        counts = {"added": 0, "removed": 0, "modified": 0, "moved": 0}
        for change in self.comparison.substantive:
            counts[change.op] += 1
        return counts

    def noise(self) -> dict[str, int]:
        noise: dict[str, int] = {}
        for change in self.comparison.changes:
            if not change.substantive:
                noise[change.cls] = noise.get(change.cls, 0) + 1
        return noise

    def blocks(self) -> list[dict[str, Any]]:
        """The record's changed passages, in document order: all of them, or past
        ``MAX_RECORD_BLOCKS`` that many, substantive ones first."""
        changes = self.comparison.changes
        if len(changes) > MAX_RECORD_BLOCKS:
            first = sorted(range(len(changes)), key=lambda i: (not changes[i].substantive, i))[:MAX_RECORD_BLOCKS]
            self.comparison.budget.limit(
                "record",
                f"the record lists {MAX_RECORD_BLOCKS:,} of the {len(changes):,} changed passages, "
                "substantive ones first; counts and noise count them all",
            )
            changes = [changes[i] for i in sorted(first)]
        return [_block_dict(self, change) for change in changes]

    @property
    def limits(self) -> list[dict[str, str]]:
        """The steps done coarsely for want of budget (diff.DiffBudget): empty for real versions."""
        return self.comparison.limits

    def to_dict(self) -> dict[str, Any]:
        """The analysis fields of a change record (docs/change-event.md); ``limits`` only when limited."""
        blocks = self.blocks()  # first: a word-level change past its budget is a limit too
        fields = {
            "kind": self.kind,
            "alert": self.alert,
            "severity": self.severity,
            "direction": self.direction,
            "categories": self.categories,
            "summary": self.summary,
            "effective_date": self.effective_date.isoformat() if self.effective_date else None,
            "effective_date_changed": self.effective_date_changed,
            "dating": self.dating,
            "counts": self.counts(),
            "noise": self.noise(),
            "provisions": self.provisions,
            "blocks": blocks,
        }
        if self.limits:
            fields["limits"] = [dict(entry) for entry in self.limits]
        return fields


def words_key(blocks: list[Block]) -> str:
    """A digest of the words a reader reads in a version (``Block.words``, in order): two
    versions with the same key differ only in markup, link targets, spelling variants."""
    digest = hashlib.sha256()
    for block in blocks:
        digest.update(" ".join(block.words).encode())
        digest.update(b"\n")
    return digest.hexdigest()[:WORDS_KEY_CHARS]


def words_key_of(text: str) -> str:
    return words_key(parse(text))


def analyse(
    old_text: str,
    new_text: str,
    *,
    seen_fingerprints: Collection[str] = (),
    seen_words: Collection[str] = (),
    fingerprint: str | None = None,
    reextracted: bool = False,
) -> Analysis:
    """The change from ``old_text`` (the previous version) to ``new_text``; ``seen_*`` are the
    fingerprints and words keys of every version the document had before the previous one."""
    comparison = compare(old_text, new_text)
    old_plain, new_plain = _plain_text(comparison.old_blocks), _plain_text(comparison.new_blocks)
    effective = dates.effective_date(new_plain)
    effective_changed = effective is not None and effective != dates.effective_date(old_plain)

    assessed = _minor_rewordings(comparison)
    key = words_key(comparison.new_blocks)
    if reextracted:
        kind = "technical"
    elif (fingerprint or fingerprint_of(new_text)) in seen_fingerprints or key in seen_words:
        kind = "flap"
    elif comparison.substantive:
        kind = "substantive"
    elif any(c.cls == "date" for c in comparison.changes):
        kind = "date-only"
    else:
        kind = "cosmetic"

    analysis = Analysis(kind, "none", "neutral", "", effective, effective_changed, comparison, _words_key=key)
    analysis.dating = dates.dating(old_plain, new_plain, kind)
    if kind == "substantive":
        _assess(analysis, assessed)
    analysis.summary = _limited(analysis, _summary(analysis))
    return analysis


# A passage reworded in at most this many words (after the words both versions share at
# either end), in a sentence no provision rule reads and under a heading of no category, is a
# minor rewording ("How we are" to "Who we are", a garbled sentence fixed, a link's text
# changed): recorded as ``wording``, never an alert. Table rows (a sub-processor's location)
# and Chinese or Japanese text (a "word" is a whole clause) are never minor.
MINOR_WORDS = 6
_CJK = re.compile("[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def _minor_rewordings(comparison: Comparison) -> dict[int, Assessment]:
    """Reclass minor rewordings as ``wording``; returns the assessments made of the passages
    that stay substantive (by ``id`` of their change), for ``_assess`` to reuse."""
    provisions = None
    assessed: dict[int, Assessment] = {}
    vocabulary: Counter[str] | None = None
    for change in comparison.substantive:
        old, new = change.old, change.new
        if change.op != "modified" or old is None or new is None or old.kind == "row":
            continue
        if _middle(old.words, new.words) > MINOR_WORDS or _CJK.search(old.plain) or _CJK.search(new.plain):
            continue
        provisions = provisions or taxonomy()
        assessment = provisions.assess_plain(old.plain, new.plain, new.path, kind=new.kind)
        if assessment.findings:
            assessed[id(change)] = assessment
            continue
        low = all(provisions.categories[c].severity == "low" for c in assessment.categories)
        if not assessment.categories or (low and _slight(old.words, new.words)):
            change.cls = "wording"
            continue
        stray = _stray_word(old.words, new.words)
        if stray and provisions.same_terms(old.plain, new.plain):
            if vocabulary is None:
                vocabulary = Counter(w for b in (*comparison.old_blocks, *comparison.new_blocks) for w in b.words)
            if vocabulary[stray] == 1:
                change.cls = "wording"
                continue
        assessed[id(change)] = assessment
    return assessed


# Words that qualify a provision without being a term of one: a stray word is never one.
_QUALIFIERS = frozenset(
    {"indefinitely", "permanently", "temporarily", "automatically", "explicitly", "expressly", "solely",
     "exclusively", "irrevocably", "perpetual", "perpetually", "immediately", "promptly", "reasonable",
     "reasonably", "sole", "full", "fully", "partial", "partially", "free", "paid", "public", "publicly",
     "private", "privately", "anonymous", "anonymised", "anonymized", "aggregated", "identifiable", "de"}
)  # fmt: skip


def _stray_word(a: tuple[str, ...], b: tuple[str, ...]) -> str:
    """The one word added to or dropped from a passage ("PRE-DISPUTE TRAVEL PROVISIONS"), if
    that is all that changed and the word can bind nothing (not a modal, a negation, a
    quantity, a place or a qualifier); else "". Whether the document uses it anywhere else and
    whether it is a term of a provision are for the caller to ask."""
    head, tail = common_ends(a, b)
    gone, came = a[head : len(a) - tail], b[head : len(b) - tail]
    if len(gone) + len(came) != 1:
        return ""
    word = (gone or came)[0]
    if word in _BINDING or word in _PLACES or word in _QUALIFIERS or any(c.isdigit() for c in word):
        return ""
    return word


# In a passage of categories whose default severity is low, a rewording this slight is minor
# still, unless one of its words can change what the passage binds: a modal, a negation, a
# quantity, a place. Minors, training, sharing, arbitration... are never reworded slightly.
SLIGHT_WORDS = 2
_BINDING = frozenset(
    {"may", "must", "shall", "will", "would", "can", "cannot", "could", "should", "might", "not", "no", "never",
     "only", "all", "any", "none", "without", "unless", "except", "always", "also", "opt", "out", "in"}
)  # fmt: skip


# Where data goes is never slight: a sub-processor's data location, a governing law.
_PLACES = frozenset(
    {"eea", "eu", "europe", "european", "union", "uk", "united", "kingdom", "states", "us", "usa", "america",
     "switzerland", "swiss", "canada", "china", "chinese", "india", "japan", "korea", "singapore", "australia",
     "brazil", "ireland", "irish", "germany", "france", "netherlands", "sweden", "finland", "israel", "russia",
     "california", "delaware", "new", "york", "texas", "hong", "kong", "taiwan", "global", "worldwide",
     "international", "local", "region", "country", "countries", "abroad", "overseas", "domestic"}
)  # fmt: skip


def _slight(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    if _middle(a, b) > SLIGHT_WORDS:
        return False
    differing = set(a).symmetric_difference(b)
    return not differing & (_BINDING | _PLACES) and not any(w.isdigit() for w in differing)


def _middle(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    """How many words differ on the longer side, past the words both share at either end."""
    head, tail = common_ends(a, b)
    return max(len(a), len(b)) - head - tail


def _sized(old: str, new: str, left: int) -> tuple[str, str, bool]:
    """The texts of a passage to read within ``left`` units: whole, or cut to the changed
    stretch with ``STRETCH_MARGIN`` characters either side (and to ``left``); ``True`` when cut."""
    if len(old) + len(new) + PASSAGE_UNITS <= left:
        return old, new, False
    head = max(common_length(old, new) - STRETCH_MARGIN, 0)
    tail = max(common_length(old[head:][::-1], new[head:][::-1]) - STRETCH_MARGIN, 0)
    old, new = old[head : len(old) - tail], new[head : len(new) - tail]
    each = max((left - PASSAGE_UNITS) // 2, 0)
    return _cut_words(old, each), _cut_words(new, each), True


def _cut_words(text: str, size: int) -> str:
    """``text`` cut at its last whole word within ``size`` characters, both ends clean."""
    if len(text) > size:
        text = text[:size]
        text = text[: text.rfind(" ")] if " " in text else ""
    return text.strip()


def _plain_text(blocks: list[Block]) -> str:
    """A version's reader text, from its blocks (each block's plain text is cached and reused)."""
    return "\n".join(b.plain for b in blocks)


def _assess(analysis: Analysis, assessed: dict[int, Assessment] | None = None) -> None:
    """Provisions of every substantive passage, rolled up per category, most severe first."""
    provisions = taxonomy()
    rollup: dict[str, dict[str, Any]] = {}
    left, cut, skipped = ASSESS_UNITS, 0, 0
    by_heading: dict[str, list[str]] = {}  # categories of passages past the budget, by their heading
    for order, change in enumerate(analysis.comparison.substantive):
        kind = (change.new or change.old).kind  # type: ignore[union-attr]
        heading = analysis.heading(change.heading)  # read by every rule: not a megabyte of it
        old, new = change.old.plain if change.old else "", change.new.plain if change.new else ""
        old, new, was_cut = _sized(old, new, left)
        if (old or new) and len(old) + len(new) + PASSAGE_UNITS <= left:
            left -= len(old) + len(new) + PASSAGE_UNITS
            cut += was_cut
            known = (assessed or {}).get(id(change))
            if known is not None and not was_cut and heading == change.heading:
                assessment = known  # read already by _minor_rewordings
            else:
                assessment = provisions.assess_plain(old, new, heading, kind=kind)
        else:
            skipped += 1
            if heading not in by_heading:
                by_heading[heading] = provisions.recognise("", heading)
            assessment = _unassessed(change, by_heading[heading])
        analysis.assessments[id(change)] = assessment
        for cid in assessment.categories:
            entry = rollup.setdefault(cid, {"id": cid, "label": provisions.label(cid), "findings": [], "quotes": []})
            findings = [f for f in assessment.findings if f.category == cid]
            entry["findings"].extend(findings)
            worse = [f for f in findings if f.direction == "worse"]
            quoted = worse or findings
            before = next(
                (f.before for f in quoted if f.before), assessment.quotes[cid]["before"] if not quoted else ""
            )
            after = next((f.after for f in quoted if f.after), assessment.quotes[cid]["after"] if not quoted else "")
            weight = max((rank(f.severity) for f in worse), default=0)
            both = bool(before and after)
            entry["quotes"].append(
                (
                    -weight,
                    not both,
                    order,
                    {"heading": heading, "before": quote(before), "after": quote(after)},
                )
            )
    if cut or skipped:
        analysis.comparison.budget.limit(
            "provisions",
            f"provisions read in {ASSESS_UNITS:,} units of changed text (characters, {PASSAGE_UNITS} a passage): "
            f"{cut:,} passages read on their changed stretch only, {skipped:,} not read "
            "(categories from their heading, severity their default or medium)",
        )
    _drop_moved_statements(analysis, rollup)
    for entry in rollup.values():
        # list[Finding], as collected above; an improvement whose opposite rule got worse in
        # another passage is not stated beside it (a summary never contradicts itself)
        findings = provisions.reconcile(entry.pop("findings"), whole_change=True)
        worse_severities = [f.severity for f in findings if f.direction == "worse"]
        default = provisions.categories[entry["id"]].severity
        entry["severity"] = max(worse_severities, key=rank) if worse_severities else ("low" if findings else default)
        entry["direction"] = "worse" if worse_severities else ("better" if findings else "neutral")
        entry["says"] = _says(findings)
        entry["quotes"] = [q for *_, q in sorted(entry["quotes"], key=lambda t: t[:3])[:MAX_QUOTES_PER_PROVISION]]
        entry["regulations"] = regulatory_mapping(entry["id"])
    ordered = sorted(rollup.values(), key=lambda p: -rank(p["severity"]))
    analysis.provisions = ordered
    severities = [a.severity for a in analysis.assessments.values()]
    analysis.severity = max(severities, key=rank) if severities else "low"
    directions = {p["direction"] for p in ordered}
    analysis.direction = "worse" if "worse" in directions else "better" if "better" in directions else "neutral"


def _drop_moved_statements(analysis: Analysis, rollup: dict[str, dict[str, Any]]) -> None:
    """A presence rule (arbitration, a liability cap...) that fired in some passage but whose
    statement is made somewhere in both versions only moved or was reworded: no finding."""
    provisions = taxonomy()
    rules = {f.rule for a in analysis.assessments.values() for f in a.findings if provisions.rule(f.rule).presence}
    if not rules:
        return
    chars = sum(len(b.plain) for b in analysis.comparison.old_blocks + analysis.comparison.new_blocks)
    if chars * len(rules) > MOVED_CHECK_UNITS:
        analysis.comparison.budget.limit(
            "provisions",
            f"{len(rules)} rules to check in {chars:,} characters of text: "
            "statements that only moved are not told apart from new ones",
        )
        return
    old = [Text(b.plain) for b in analysis.comparison.old_blocks]  # shared by every rule: each term read once
    new = [Text(b.plain) for b in analysis.comparison.new_blocks]
    moved = {r for r in rules if provisions.says_anywhere(r, old) == provisions.says_anywhere(r, new)}
    if not moved:
        return
    for assessment in analysis.assessments.values():
        assessment.findings = [f for f in assessment.findings if f.rule not in moved]
        assessment.rescore(provisions)
    for entry in rollup.values():
        entry["findings"] = [f for f in entry["findings"] if f.rule not in moved]


def _says(findings: list[Finding]) -> list[str]:
    """What a provision's findings say, worst first: worse before better, then by severity."""
    ordered = sorted(findings, key=lambda f: (f.direction != "worse", -rank(f.severity)))
    per_rule: dict[str, str] = {}
    for finding in ordered:  # one statement per rule: the worst (a rule worse here, better there, is worse)
        per_rule.setdefault(finding.rule, finding.says)
    return list(dict.fromkeys(per_rule.values()))


def _summary(analysis: Analysis) -> str:
    comparison = analysis.comparison
    when = (
        f" Takes effect {analysis.effective_date.day} {analysis.effective_date:%B %Y}."
        if analysis.effective_date and analysis.effective_date_changed
        else ""
    )
    if analysis.kind == "technical":
        return "Re-extracted from the stored page after an extraction-rule change; the policy itself did not change."
    if analysis.kind == "flap":
        return (
            "Back to the text of an earlier version (the page alternates between renderings or with an "
            "error page, or a change was undone)."
        )
    if analysis.kind == "date-only":
        return "Only dates changed." + when
    if analysis.kind == "cosmetic":
        parts = [f"{n} {_NOISE_WORDS.get(cls, cls)}" for cls, n in sorted(analysis.noise().items())]
        same = (
            "the words of the document kept are the same"
            if "unbundled" in analysis.noise()
            else "the words are the same"
        )
        return f"Formatting only: {', '.join(parts)}; {same}." if parts else f"Formatting only; {same}."
    statements: list[str] = []
    for wanted in ("worse", "better"):
        for provision in analysis.provisions:
            if provision["direction"] == wanted and len(statements) < MAX_SUMMARY_FINDINGS:
                statements.append(provision["says"][0])
        if statements:
            break
    if not statements:
        labels = [p["label"].lower() for p in analysis.provisions[:MAX_SUMMARY_FINDINGS]]
        n = len(comparison.substantive)
        passages = f"{n} passage{'s' if n != 1 else ''}"
        statements.append(f"rewords {passages} on {', '.join(labels)}" if labels else f"rewords {passages}")
    sections = [c.new.plain for c in comparison.substantive if c.op == "added" and c.new and c.new.kind == "heading"]
    if sections:
        names = ", ".join(f"\u201c{s}\u201d" for s in sections[:2])
        statements.append(
            f"adds section{'s' if len(sections) > 1 else ''} {names}" + (" and more" if len(sections) > 2 else "")
        )
    text = "; ".join(statements)
    return text[0].upper() + text[1:] + "." + when


def _limited(analysis: Analysis, summary: str) -> str:
    """The summary, saying so when only part of the change could be analysed (at most 600 characters)."""
    if analysis.limits:
        summary = quote(summary)[: MAX_SUMMARY_CHARS - len(LIMITED)].rstrip() + LIMITED
    return quote(summary)


def _unassessed(change: BlockChange, categories: list[str]) -> Assessment:
    """A passage past the budget: categories from its heading, their default severity (medium without one)."""
    provisions = taxonomy()
    old, new = change.old.plain if change.old else "", change.new.plain if change.new else ""
    assessment = Assessment(categories=list(categories))
    for cid in assessment.categories:
        assessment.quotes[cid] = {"before": old[:MAX_SUMMARY_CHARS], "after": new[:MAX_SUMMARY_CHARS]}
    assessment.rescore(provisions)
    if not assessment.categories:
        assessment.severity = "medium"  # not read: it may say anything
    return assessment


def _block_dict(analysis: Analysis, change: BlockChange) -> dict[str, Any]:
    assessment = analysis.assessments.get(id(change))
    block: dict[str, Any] = {
        "op": change.op,
        "class": change.cls,
        "heading": analysis.heading(change.heading),
        "before": quote(change.before),
        "after": quote(change.after),
    }
    if change.moved_from:
        block["moved_from"] = analysis.heading(change.moved_from)
    if change.substantive:
        block["delta"] = change.delta()
    if assessment is not None:
        block["categories"] = assessment.categories
        block["severity"] = assessment.severity
        block["direction"] = assessment.direction
        block["findings"] = [f.to_dict() for f in assessment.findings]
    return block
