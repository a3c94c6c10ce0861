"""Dates in policy text: finding them, masking them, the date a new text takes effect, and the
date a text states for itself ("Last updated: ...", "Effective ..."): a change's dating and its flags."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any

DATE_PLACEHOLDER = "DATEX"  # what ``mask`` puts in place of a date (one word, no digits)

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = r"\b(?P<{name}>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<{name}>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<{name}>(?:19|20)\d\d)"
_DATE = re.compile(
    "|".join(
        (
            _MONTH.format(name="m1") + r"\s+" + _DAY.format(name="d1") + r",?\s+" + _YEAR.format(name="y1"),
            _DAY.format(name="d2") + r"\s+(?:of\s+)?" + _MONTH.format(name="m2") + r",?\s+" + _YEAR.format(name="y2"),
            _YEAR.format(name="y3") + r"-(?P<m3>[01]\d)-(?P<d3>[0-3]\d)",
            _MONTH.format(name="m4") + r"\s+" + _YEAR.format(name="y4"),
        )
    ),
    re.I,
)
# "Effective September 28, 2025", "**Effective:** February 15, 2024", "Version Effective Date:
# December 20, 2023", "This policy is effective on ...", "takes effect on ...", "will apply from ...".
_EFFECTIVE = re.compile(
    r"\b(?:effective|takes? effect|comes? into (?:force|effect)|in (?:force|effect)|will apply|applies)"
    r"(?:\s+date)?(?:\s+(?:on|from|as of|starting))?\s*:?\s*",
    re.I,
)


def _parse(match: re.Match[str]) -> date | None:
    groups = match.groupdict()
    for suffix in "1234":
        year = groups.get(f"y{suffix}")
        if not year:
            continue
        month_text = groups[f"m{suffix}"]
        month = int(month_text) if month_text.isdigit() else _MONTHS[month_text.lower()]
        day = int(groups.get(f"d{suffix}") or 1)
        try:
            return date(int(year), month, day)
        except ValueError:
            return None
    return None


def mask(text: str) -> str:
    """The text with each date replaced by one placeholder word."""
    return _DATE.sub(f" {DATE_PLACEHOLDER} ", text)


def effective_date(text: str) -> date | None:
    """The date the text says it takes effect, if it states one (the first such statement)."""
    for marker in _EFFECTIVE.finditer(text):
        match = _DATE.match(text, marker.end())
        if match is None:  # "effective on the date you accept" or a date a few words on
            window = text[marker.end() : marker.end() + 40]
            match = _DATE.search(window)
            if match is None or re.search(r"[.;]", window[: match.start()]):
                continue
        parsed = _parse(match)
        if parsed:
            return parsed
    return None


# A date is at most four runs of word characters ("28th of September, 2025") and ``mask`` makes
# it one: a text of more than this many runs keeps more than 30 words once masked.
_MAX_STATEMENT_RUNS = 4 * 30 + 3
_RUN = re.compile(r"\w+")


def is_date_statement(plain_text: str) -> bool:
    """A line that only states when the text took effect or was updated."""
    if next(islice(_RUN.finditer(plain_text), _MAX_STATEMENT_RUNS, None), None) is not None:
        return False  # too long to be one, whatever its dates (and a long text is not masked for nothing)
    if not _DATE.search(plain_text):
        return False
    rest = mask(plain_text)
    n_words = len(_RUN.findall(rest))
    return n_words <= 30 and bool(
        re.search(r"\b(effective|updated|revised|modified|version|dated?|as of)\b", rest, re.I)
    )


# -- the date a document states for itself, and a change's dating ----------------------------------------

# The labels under which a document dates itself, as the corpus writes them (Open Terms Archive's
# GenAI collection: 145 documents, 2,980 versions), each followed at once by the date: "Last
# updated: 15 April 2025", "Last Updated:** **July 22, 2026**", "UpdatedNovember 14, 2023", "Last
# Update: 16 July, 2026", "Date of Last Revision: May 27, 2023", "were last modified January
# 30th, 2025", "Last Modified: 11/12/2025", "更新日期：2026年7月15日". A label that no date follows
# ("the 'Last updated' date at the top of this page") states nothing. "Updated" alone dates
# the text only at the start of a line: a changelog's "2024-01-10: We've updated our Usage
# Policies" is history, not the text's date.
_LEAD = r"^[ \t>*_#|\-]*"  # what Markdown leaves before a line's first word
_AFTER = r"(?:[ \t]+(?:on|as[ \t]+of|from|in))?[ \t*_]*[:：]?[ \t*_]*"
_UPDATED_LABEL = re.compile(
    r"(?P<label>\b(?:last|latest)[ \t]+(?:updated?|modified|revised|revision|changed|amended)"
    r"|\bdate[ \t]+of[ \t]+(?:the[ \t]+)?last[ \t]+(?:revision|update|modification|change|amendment)"
    r"|\b(?:updated?|revision|modified|release)[ \t]+date"
    rf"|{_LEAD}(?:updated|revised|modified|amended))" + _AFTER,
    re.I | re.M,
)
# "Effective September 28, 2025", "Effective: July 31, 2025", "Effective as of May 27 2025",
# "Version Effective Date: May 27, 2026", "Effective Date*: August 15, 2026": "effective" dates
# the text at the start of a line or as "effective date"; within a sentence ("changes are
# effective 30 days after...") it is for ``effective_date`` to read, not a dating.
_EFFECTIVE_LABEL = re.compile(
    rf"(?P<label>{_LEAD}(?:version[ \t]+)?effective(?:[ \t]+date)?|\beffective[ \t]+date)" + _AFTER,
    re.I | re.M,
)
# Chinese and Japanese: 更新日期, 最终更新, 最終更新日, 修订日期 (updated); 生效日期, 施行日 (effective).
_CJK_UPDATED = re.compile(
    r"(?P<label>最[终終]更新(?:日期|日|时间|時間)?|(?:更新|修订|修訂|改定|发布|發布)(?:日期|日|时间|時間))[ \t]*[:：]?[ \t]*"
)
_CJK_EFFECTIVE = re.compile(r"(?P<label>(?:生效|施行)(?:日期|日|时间|時間))[ \t]*[:：]?[ \t]*")
_CJK_DATE = re.compile(r"(?P<y>(?:19|20)\d\d)[ \t]*年[ \t]*(?P<m>[01]?\d)[ \t]*月(?:[ \t]*(?P<d>[0-3]?\d)[ \t]*日)?")
# "11/12/2025" after a label (never masked: a number with slashes is no date in a sentence):
# month first, as every such dating in the corpus is ("02/24/2025"), unless the first number
# cannot be a month; "12.03.2025" day first. Both versions are read alike, so whether a dating
# moved never depends on the reading, only how a page words the date.
_NUMERIC_DATE = re.compile(r"(?P<a>[0-3]?\d)(?P<sep>[/.])(?P<b>[0-3]?\d)(?P=sep)(?P<y>(?:19|20)\d\d)\b")
_LABELS = (
    ("updated", _UPDATED_LABEL, False),
    ("effective", _EFFECTIVE_LABEL, False),
    ("updated", _CJK_UPDATED, True),
    ("effective", _CJK_EFFECTIVE, True),
)
MAX_LABEL_CHARS = 40  # a label as the record quotes it ("Date of Last Revision": 21)
# Where a text first dates itself, the datings within this many characters are its header
# ("协议发布及生效日期：2024年1月5日 / 协议更新日期：2024年12月19日"; "Release date: ... Effective
# date: ..."); a page that carries several documents dates each further on ("Updated: July 17,
# 2025" over a guide 90 lines below the usage policies' "Effective: October 29, 2025").
HEADER_CHARS = 400
# A dating is looked for in this much of a text from its start, then from its end (some state it
# last: "This privacy policy was last modified January 30th, 2025."): a 600 KB text is not read through.
DATING_READ_CHARS = 20_000


@dataclass(frozen=True)
class StatedDate:
    """A date a text states for itself: ``kind`` "updated" or "effective", the ``label`` as the text
    words it, the ``value`` in ISO 8601 at the precision stated ("2025-03-12", or "2026-07")."""

    kind: str
    label: str
    value: str
    at: int = 0  # where in the text


def stated_dates(text: str) -> dict[str, StatedDate]:
    """The "last updated" and "effective" dates ``text`` states for itself in its header, by kind:
    the first dating in the text and any other within ``HEADER_CHARS`` of it."""
    parts = (text,) if len(text) <= 2 * DATING_READ_CHARS else (text[:DATING_READ_CHARS], text[-DATING_READ_CHARS:])
    for part in parts:
        firsts = [found for found in (_first(part, label, cjk, kind) for kind, label, cjk in _LABELS) if found]
        if firsts:
            start = min(found.at for found in firsts)
            header: dict[str, StatedDate] = {}
            for found in sorted(firsts, key=lambda found: found.at):
                if found.at <= start + HEADER_CHARS:
                    header.setdefault(found.kind, found)
            return header
    return {}


def _first(text: str, label: re.Pattern[str], cjk: bool, kind: str) -> StatedDate | None:
    for marker in label.finditer(text):
        value = _stated_value(text, marker.end(), cjk)
        if value:
            words = " ".join(re.findall(r"[^\W_]+", marker.group("label")))
            return StatedDate(kind, words[:MAX_LABEL_CHARS], value, marker.start())
    return None


def _stated_value(text: str, at: int, cjk: bool) -> str | None:
    """The date written at ``at``, in ISO 8601 at its precision, if one is."""
    if cjk:
        found = _CJK_DATE.match(text[at : at + 60])
        if found is None:
            return None
        year, month, day = int(found["y"]), int(found["m"]), found["d"]
        return _iso(year, month, int(day) if day else None)
    written = _DATE.match(text[at : at + 60])  # on its own: "UpdatedNovember 14, 2023" has no word boundary
    if written is not None:
        parsed = _parse(written)
        return None if parsed is None else _iso(parsed.year, parsed.month, None if written["y4"] else parsed.day)
    numeric = _NUMERIC_DATE.match(text[at : at + 60])
    if numeric is None:
        return None
    first, second = int(numeric["a"]), int(numeric["b"])
    day_first = numeric["sep"] == "." or first > 12
    if day_first and numeric["sep"] == "." and second > 12:
        day_first = False
    month, day = (second, first) if day_first else (first, second)
    return _iso(int(numeric["y"]), month, day)


def _iso(year: int, month: int, day: int | None) -> str | None:
    try:
        stated = date(year, month, day or 1)
    except ValueError:
        return None
    return stated.isoformat() if day else f"{stated:%Y-%m}"


# A change's dating flags: its text changed in substance and its stated date did not, or only
# its stated date moved.
UNCHANGED_DATE = "unchanged-date"
DATE_ONLY = "date-only"


def dating(old_text: str, new_text: str, kind: str) -> dict[str, Any] | None:
    """A change record's ``dating`` (docs/api.md): the date each version states for itself,
    and its flag, for a change of ``kind`` from ``old_text`` to ``new_text``; None when neither
    version states one. Each date both headers state is compared: the text was re-dated when any
    of them moved ("Updated: November 14, 2023" kept, "Effective" moved to January 31, 2024). The
    record shows the date that moved, else the "last updated" one, else the "effective" one; a
    header relabelled ("Updated: ..." became "Effective: ...") is compared across labels."""
    old, new = stated_dates(old_text), stated_dates(new_text)
    common = [kind_ for kind_ in ("updated", "effective") if kind_ in old and kind_ in new]
    moved = [kind_ for kind_ in common if old[kind_].value != new[kind_].value]
    before: StatedDate | None
    after: StatedDate | None
    if common:
        before, after = old[(moved or common)[0]], new[(moved or common)[0]]
    else:  # one version states none, or the header was relabelled
        before, after = (found.get("updated") or found.get("effective") for found in (old, new))
    stated = after or before
    if stated is None:
        return None
    flag = None
    if before is not None and after is not None:
        redated = bool(moved) or before.value != after.value
        # Substantive changes only: a reader relies on the date to tell a text that says
        # something new; link targets, formatting, a typo fixed (cosmetic) leave the policy as it was.
        if kind == "substantive" and not redated:
            flag = UNCHANGED_DATE
        elif kind == "date-only" and redated:
            flag = DATE_ONLY
    return {
        "flag": flag,
        "label": stated.label,
        "before": before.value if before else None,
        "after": after.value if after else None,
    }
