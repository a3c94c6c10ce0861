"""Change analysis: the kind, severity, provisions, summary and effective date of a change.

One function, ``analyse``, used by the diff Lambda, ``policywatch diff`` and ``policywatch
replay`` alike, so what the command line shows is what subscribers would have received.

Kinds, in order of precedence:
- ``technical``: the new version was rebuilt from a stored snapshot after an extractor or
  declaration change (``policywatch reextract``); never alerts.
- ``flap``: the new text is, after the noise rules, one of the document's recent versions
  (a page alternating between two renderings, a change undone); never alerts.
- ``substantive``: words of the policy changed; the only kind that alerts.
- ``date-only``: nothing but dates, or lines that only state a date, changed.
- ``cosmetic``: formatting, typography, link targets, tokens, page chrome, moves.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from policywatch import dates
from policywatch.blocks import Block
from policywatch.diff import BlockChange, Comparison, compare, quote
from policywatch.noise import fingerprint as fingerprint_of
from policywatch.provisions import Assessment, Finding, rank, regulatory_mapping, taxonomy

FLAP_WINDOW = 10  # archived versions before the previous one that a new text may flap back to
MAX_QUOTES_PER_PROVISION = 3
MAX_SUMMARY_FINDINGS = 3

_NOISE_WORDS = {
    "formatting": "reformatted",
    "link": "with other link targets",
    "label": "page labels",
    "navigation": "table-of-contents entries",
    "moved": "moved unchanged",
    "date": "dates",
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
        return [_block_dict(change, self.assessments.get(id(change))) for change in self.comparison.changes]

    def to_dict(self) -> dict[str, Any]:
        """The analysis fields of a change record (docs/change-event.md)."""
        return {
            "kind": self.kind,
            "alert": self.alert,
            "severity": self.severity,
            "direction": self.direction,
            "categories": self.categories,
            "summary": self.summary,
            "effective_date": self.effective_date.isoformat() if self.effective_date else None,
            "effective_date_changed": self.effective_date_changed,
            "counts": self.counts(),
            "noise": self.noise(),
            "provisions": self.provisions,
            "blocks": self.blocks(),
        }


def analyse(
    old_text: str,
    new_text: str,
    *,
    recent_fingerprints: Collection[str] = (),
    fingerprint: str | None = None,
    reextracted: bool = False,
) -> Analysis:
    comparison = compare(old_text, new_text)
    effective = dates.effective_date(_plain_text(comparison.new_blocks))
    effective_changed = effective is not None and effective != dates.effective_date(_plain_text(comparison.old_blocks))

    if reextracted:
        kind = "technical"
    elif (fingerprint or fingerprint_of(new_text)) in set(recent_fingerprints):
        kind = "flap"
    elif comparison.substantive:
        kind = "substantive"
    elif any(c.cls == "date" for c in comparison.changes):
        kind = "date-only"
    else:
        kind = "cosmetic"

    analysis = Analysis(kind, "none", "neutral", "", effective, effective_changed, comparison)
    if kind == "substantive":
        _assess(analysis)
    analysis.summary = _summary(analysis)
    return analysis


def _plain_text(blocks: list[Block]) -> str:
    """A version's reader text, from its blocks (each block's plain text is cached and reused)."""
    return "\n".join(b.plain for b in blocks)


def _assess(analysis: Analysis) -> None:
    """Provisions of every substantive passage, rolled up per category, most severe first."""
    provisions = taxonomy()
    rollup: dict[str, dict[str, Any]] = {}
    for order, change in enumerate(analysis.comparison.substantive):
        kind = (change.new or change.old).kind  # type: ignore[union-attr]
        old, new = change.old.plain if change.old else "", change.new.plain if change.new else ""
        assessment = provisions.assess_plain(old, new, change.heading, kind=kind)
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
                (-weight, not both, order, {"heading": change.heading, "before": quote(before), "after": quote(after)})
            )
    _drop_moved_statements(analysis, rollup)
    for entry in rollup.values():
        findings: list[Finding] = entry.pop("findings")
        worse = [f.severity for f in findings if f.direction == "worse"]
        default = provisions.categories[entry["id"]].severity
        entry["severity"] = max(worse, key=rank) if worse else ("low" if findings else default)
        entry["direction"] = "worse" if worse else ("better" if findings else "neutral")
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
    old = [b.plain for b in analysis.comparison.old_blocks]
    new = [b.plain for b in analysis.comparison.new_blocks]
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
        return "Back to the text of a recent version (the page alternates between renderings, or a change was undone)."
    if analysis.kind == "date-only":
        return "Only dates changed." + when
    if analysis.kind == "cosmetic":
        parts = [f"{n} {_NOISE_WORDS.get(cls, cls)}" for cls, n in sorted(analysis.noise().items())]
        return ("Formatting only: " + ", ".join(parts) + "; the words are the same." if parts else
                "Formatting only; the words are the same.")  # fmt: skip
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


def _block_dict(change: BlockChange, assessment: Assessment | None) -> dict[str, Any]:
    block: dict[str, Any] = {
        "op": change.op,
        "class": change.cls,
        "heading": change.heading,
        "before": quote(change.before),
        "after": quote(change.after),
    }
    if change.moved_from:
        block["moved_from"] = change.moved_from
    if change.substantive:
        block["delta"] = change.delta()
    if assessment is not None:
        block["categories"] = assessment.categories
        block["severity"] = assessment.severity
        block["direction"] = assessment.direction
        block["findings"] = [f.to_dict() for f in assessment.findings]
    return block
