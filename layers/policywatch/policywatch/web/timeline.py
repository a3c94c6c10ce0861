"""The governance timeline: recorded changes on a time axis, one lane per document, as inline SVG.

A pure function of its lanes (no storage, no request): ``svg(lanes)`` returns the markup the
platform, category and Professional timeline pages put in their page. Every change is a
marker, an SVG link to its change page, focusable by keyboard, named by its ``<title>`` and
``aria-label`` (date, kind, severity, summary). A substantive change is a large circle
coloured by severity *and* lettered H, M or L (colour is never the only signal); any other
change is a small grey dot. Under a substantive marker, the codes of the provision categories
it touched (``codes``), as many as fit before the next marker's codes.

The pages list the same changes as text below the SVG, and ``static/site.js`` shows the
focused or hovered marker's label in a live region: the SVG is a view, never the only one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from markupsafe import Markup, escape

from policywatch.web.render import when

WIDTH = 960  # the viewBox's width; CSS scales it (and scrolls it sideways on a narrow screen)
LABEL_WIDTH = 190  # the lane labels on the left
YEAR_CHAR_WIDTH = 9.0  # one digit of the 12 px bold year labels, generously (Chromium's DejaVu: 8.4)
MONTH_CHAR_WIDTH = 6.5  # one letter of the 10 px month labels, generously
YEAR_OFFSET, MONTH_OFFSET = 3, 2  # an axis label starts this far right of its tick
EDGE = 2  # no label comes closer than this to the viewBox's sides
# Room right of the axis's end for a year label starting at its last tick ("2026" when the
# axis ends on a new year): the label always fits inside the viewBox, never cut at its edge.
RIGHT_MARGIN = YEAR_OFFSET + round(4 * YEAR_CHAR_WIDTH) + EDGE + 3
AXIS_HEIGHT = 44
LANE_HEIGHT = 56
EMPTY_LANE_HEIGHT = 30  # a lane without a change: its label and a note
BOTTOM_MARGIN = 8
LABEL_CHARS = 26  # a lane label past this is shortened (its full text is in its <title>)
CODE_CHARS_WIDTH = 6.2  # roughly one character of the 10 px provision codes
MIN_MONTHS = 3  # a shorter history is drawn over three months: one change is not a line's width

SEVERITY_COLOURS = {"high": "#cf222e", "medium": "#9a6700", "low": "#0969da"}
SEVERITY_LETTERS = {"high": "H", "medium": "M", "low": "L"}
OTHER_COLOUR = "#6e7781"  # cosmetic, date-only, flap, technical
KIND_WORDS = {
    "substantive": "Substantive change",
    "cosmetic": "Cosmetic change",
    "date-only": "Date-only change",
    "flap": "Flap (back to an earlier text)",
    "technical": "Technical re-extraction",
}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Marker:
    """One recorded change on a lane."""

    at: datetime  # when its version was fetched
    href: str  # its change page
    kind: str  # substantive, cosmetic, date-only, flap, technical
    severity: str  # none, low, medium, high
    summary: str
    categories: tuple[str, ...] = ()  # provision ids, most severe first

    @property
    def substantive(self) -> bool:
        return self.kind == "substantive" and self.severity in SEVERITY_COLOURS

    @property
    def label(self) -> str:
        """What a reader is told of the marker: date, kind and severity, summary."""
        what = KIND_WORDS.get(self.kind, self.kind.capitalize())
        if self.substantive:
            what = f"{self.severity.capitalize()} severity {what.lower()}"
        return f"{_day(self.at)}: {what}. {self.summary}".strip()


@dataclass(frozen=True)
class Lane:
    """One document (or one platform's document, on a category timeline) and its changes."""

    label: str
    markers: Sequence[Marker] = field(default_factory=tuple)
    href: str | None = None  # the document's page: the label links there
    note: str = ""  # said on an empty lane ("no versions archived yet")
    sublabel: str = ""  # a second, smaller line under the label (the document, under its platform)


def marker(change: dict[str, Any], href: str, category: str | None = None) -> Marker:
    """A change of the read model (``analysis.site.change_data``) as a marker linking to ``href``.

    On one category's timeline (``category``), it takes that provision's severity and shows no codes.
    """
    severity, categories = change["severity"], tuple(change.get("categories", []))
    if category:
        severity = next((p["severity"] for p in change.get("provisions", []) if p["id"] == category), severity)
        categories = ()
    at = when(change.get("fetched_at")) or when(change["stamp"])
    if at is None:
        raise ValueError(f"a change without a readable time: {change['stamp']!r}")
    return Marker(at, href, change["kind"], severity, change["summary"], categories)


def legend(
    changes: Iterable[dict[str, Any]], codes: Mapping[str, str], labels: Mapping[str, str]
) -> list[tuple[str, str]]:
    """The provision codes a timeline of ``changes`` shows, with their labels, in taxonomy order."""
    used = {category for change in changes if change["kind"] == "substantive" for category in change["categories"]}
    return [(codes[c], labels[c]) for c in labels if c in used and c in codes]


def svg(
    lanes: Sequence[Lane],
    *,
    codes: Mapping[str, str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    title: str = "Governance timeline",
) -> Markup:
    """The timeline of ``lanes`` between ``start`` and ``end`` (by default: the markers' own span)."""
    codes = codes or {}
    moments = [m.at for lane in lanes for m in lane.markers]
    first, last = _span(moments, start, end)
    scale = _Scale(first, last)
    heights = [LANE_HEIGHT if lane.markers else EMPTY_LANE_HEIGHT for lane in lanes] or [LANE_HEIGHT]
    height = AXIS_HEIGHT + sum(heights) + BOTTOM_MARGIN
    out = [
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="group" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    out += _axis(scale, height)
    top = AXIS_HEIGHT
    for lane, lane_height in zip(lanes, heights, strict=False):
        out += _lane(lane, top, scale, codes)
        top += lane_height
    if not lanes:
        out.append(f'<text class="tl-note" x="{LABEL_WIDTH}" y="{AXIS_HEIGHT + 30}">No changes recorded yet.</text>')
    out.append("</svg>")
    return Markup("\n".join(out))  # noqa: S704 - every piece of text in it went through escape()


def category_codes(category_ids: Iterable[str]) -> dict[str, str]:
    """A short code per provision category, unique among them: its words' initials, then more letters.

    ``model-training`` is MT, ``training-opt-out`` TOO; a code already taken grows by the next
    letters of the id's last word until it is unique (``data-retention`` DR, ``dispute-resolution`` DRE).
    """
    found: dict[str, str] = {}
    taken: set[str] = set()
    for category in category_ids:
        words = [word for word in category.split("-") if word]
        code = "".join(word[0] for word in words).upper()
        tail = words[-1][1:] if words else ""
        extra = 0
        candidate = code
        while candidate in taken or not candidate:
            extra += 1
            candidate = code + tail[:extra].upper() if extra <= len(tail) else f"{code}{extra}"
        found[category] = candidate
        taken.add(candidate)
    return found


# -- the axis --


class _Scale:
    """Moments to x: ``first`` at the plot's left edge, ``last`` at its right."""

    def __init__(self, first: datetime, last: datetime) -> None:
        self.first, self.last = first, last
        self.left, self.right = LABEL_WIDTH + 12, WIDTH - RIGHT_MARGIN
        self.seconds = max((last - first).total_seconds(), 1.0)

    def x(self, moment: datetime) -> float:
        share = (moment - self.first).total_seconds() / self.seconds
        return round(self.left + min(max(share, 0.0), 1.0) * (self.right - self.left), 1)

    def months(self) -> list[datetime]:
        """The first instant of every month between ``first`` and ``last``, inclusive."""
        out, year, month = [], self.first.year, self.first.month
        while (moment := datetime(year, month, 1, tzinfo=UTC)) <= self.last:
            out.append(moment)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out


def _span(moments: list[datetime], start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """The axis's ends: whole months around the markers (or ``start``/``end``), at least ``MIN_MONTHS`` long."""
    low = min([*moments, *([start] if start else [])], default=None)
    high = max([*moments, *([end] if end else [])], default=None)
    if low is None or high is None:
        today = datetime.now(UTC)
        low = high = today
    first = datetime(low.year, low.month, 1, tzinfo=UTC)
    months = (high.year - first.year) * 12 + high.month - first.month + 1
    months = max(months, MIN_MONTHS)
    year, month = divmod(first.month - 1 + months, 12)
    return first, datetime(first.year + year, month + 1, 1, tzinfo=UTC)


def _axis(scale: _Scale, height: int) -> list[str]:
    """Month ticks (every month, every quarter or every year as the span allows) and year labels.

    Every label lies inside the viewBox: one that would pass its right edge ends at its tick
    instead, and a year label that would run into the previous one is left out (its line stays).
    """
    months = scale.months()
    step = 1 if len(months) <= 18 else 3 if len(months) <= 60 else 12
    bottom = height - BOTTOM_MARGIN
    out = ['<g class="tl-axis" aria-hidden="true">', f'<line x1="{scale.left}" y1="30" x2="{scale.right}" y2="30"/>']
    january = next((scale.x(m) for m in months if m.month == 1), None)
    year_end = float("-inf")  # where the last year label drawn ends
    for moment in months:
        x = scale.x(moment)
        crowded = moment == months[0] and january is not None and 0 < january - x < 44  # its year's label and the next
        if moment.month == 1 or (moment == months[0] and not crowded):
            out.append(f'<line class="tl-year" x1="{x}" y1="10" x2="{x}" y2="{bottom}"/>')
            label = _axis_label("tl-year-label", x, 14, str(moment.year), YEAR_CHAR_WIDTH, YEAR_OFFSET)
            if label[0] > year_end + 6:
                out.append(label[2])
                year_end = label[1]
        if (moment.month - 1) % step == 0:
            out.append(f'<line x1="{x}" y1="26" x2="{x}" y2="34"/>')
            if step < 12:
                month = _MONTHS[moment.month - 1]
                out.append(_axis_label("tl-month", x, 44, month, MONTH_CHAR_WIDTH, MONTH_OFFSET)[2])
    out.append("</g>")
    return out


def _axis_label(cls: str, x: float, y: int, text: str, char_width: float, offset: int) -> tuple[float, float, str]:
    """An axis label for the tick at ``x``: (its left end, its right end, its markup).

    It starts ``offset`` right of the tick; if it would pass the viewBox's right edge, it ends
    ``offset`` left of the tick instead (``text-anchor="end"``).
    """
    width = len(text) * char_width
    if x + offset + width <= WIDTH - EDGE:
        return x + offset, x + offset + width, f'<text class="{cls}" x="{round(x + offset, 1)}" y="{y}">{text}</text>'
    end = min(x - offset, WIDTH - EDGE)
    markup = f'<text class="{cls}" x="{round(end, 1)}" y="{y}" text-anchor="end">{text}</text>'
    return end - width, end, markup


# -- lanes and markers --


def _lane(lane: Lane, top: int, scale: _Scale, codes: Mapping[str, str]) -> list[str]:
    middle = top + (26 if lane.markers else EMPTY_LANE_HEIGHT // 2)
    full = f"{lane.label} \u00b7 {lane.sublabel}" if lane.sublabel else lane.label
    out = ['<g class="tl-lane">']
    text = f'<text class="tl-label" x="8" y="{middle + (-3 if lane.sublabel else 4)}">{escape(_cut(lane.label))}'
    if lane.sublabel:
        text += f'<tspan class="tl-sublabel" x="8" dy="15">{escape(_cut(lane.sublabel))}</tspan>'
    text += f"<title>{escape(full)}</title></text>"
    out.append(f'<a href="{escape(lane.href)}">{text}</a>' if lane.href else text)
    if not lane.markers:
        if lane.note:
            out.append(f'<text class="tl-note" x="{scale.left}" y="{middle + 4}">{escape(lane.note)}</text>')
        out.append("</g>")
        return out
    out.append(f'<line class="tl-rail" x1="{scale.left}" y1="{middle}" x2="{scale.right}" y2="{middle}"/>')
    # Small markers first, then substantive ones by rising severity: the most severe is on top.
    order = sorted(lane.markers, key=lambda m: (m.substantive, _rank(m.severity), m.at))
    out += [_marker(marker, scale.x(marker.at), middle) for marker in order]
    out += _codes(lane.markers, scale, middle + 24, codes)
    out.append("</g>")
    return out


def _marker(marker: Marker, x: float, y: int) -> str:
    label = escape(marker.label)
    head = (
        f'<a class="tl-mark {_class(marker)}" href="{escape(marker.href)}" aria-label="{label}"><title>{label}</title>'
    )
    if marker.substantive:
        colour, letter = SEVERITY_COLOURS[marker.severity], SEVERITY_LETTERS[marker.severity]
        body = (
            f'<circle cx="{x}" cy="{y}" r="9" fill="{colour}"/>'
            f'<text x="{x}" y="{y + 4}" class="tl-letter" aria-hidden="true">{letter}</text>'
        )
    else:
        body = f'<circle cx="{x}" cy="{y}" r="4.5" fill="{OTHER_COLOUR}"/>'
    return head + body + "</a>"


def _codes(markers: Sequence[Marker], scale: _Scale, y: int, codes: Mapping[str, str]) -> list[str]:
    """The provision codes under each substantive marker, left to right, skipping any that would overlap."""
    out, end = [], float("-inf")
    for marker in sorted((m for m in markers if m.substantive and m.categories), key=lambda m: m.at):
        shown = [codes.get(category, category[:3].upper()) for category in marker.categories[:2]]
        text = " ".join(shown) + (f" +{len(marker.categories) - 2}" if len(marker.categories) > 2 else "")
        x = scale.x(marker.at)
        width = len(text) * CODE_CHARS_WIDTH
        left = min(max(x - width / 2, scale.left - 8), WIDTH - width - 2)
        if left < end + 6:
            continue
        out.append(f'<text class="tl-codes" x="{round(left, 1)}" y="{y}" aria-hidden="true">{escape(text)}</text>')
        end = left + width
    return out


def _cut(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "\u2026"


def _class(marker: Marker) -> str:
    return f"tl-{marker.severity}" if marker.substantive else "tl-minor"


def _rank(severity: str) -> int:
    return ("none", "low", "medium", "high").index(severity) if severity in SEVERITY_LETTERS else 0


def _day(moment: datetime | date) -> str:
    return f"{moment.day} {moment:%b %Y}"
