"""Dates in policy text: finding them, masking them, and the date a new text takes effect."""

from __future__ import annotations

import re
from datetime import date
from itertools import islice

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
