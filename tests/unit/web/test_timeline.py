"""The governance timeline as SVG: a marker per change, coloured and lettered by severity, linked,
titled, on a lane per document over a time axis. Built from real changes: Midjourney's first
terms of service versions (Open Terms Archive, ODC-By 1.0) diffed by the pipeline's own code."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest

from policywatch.analysis.changes import build_record
from policywatch.analysis.provisions import taxonomy
from policywatch.analysis.site import change_data
from policywatch.storage.archive import VersionRef, stamp
from policywatch.text.noise import fingerprint
from policywatch.web import timeline
from tests.helpers.corpus import HISTORIES, MIDJOURNEY

SVG = "{http://www.w3.org/2000/svg}"


@cache
def midjourney_changes(last: int = 8) -> tuple[dict[str, Any], ...]:
    """The read model's summaries of Midjourney's changes through version ``last``, oldest first."""
    index = json.loads((HISTORIES / MIDJOURNEY / "index.json").read_text())["versions"][:last]
    refs, texts = [], []
    for entry in index:
        text = (HISTORIES / MIDJOURNEY / entry["file"]).read_text()
        moment = datetime.fromisoformat(entry["recorded_at"])
        key = f"versions/midjourney/terms-of-service/{stamp(moment)}.md"
        sha = hashlib.sha256(text.encode()).hexdigest()
        fetched = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        refs.append(VersionRef(key, "midjourney", "terms-of-service", fetched, sha, "https://docs.midjourney.com/"))
        texts.append(text)
    changes = []
    for i in range(1, len(refs)):
        record = build_record(
            refs[i - 1], refs[i], texts[i - 1], texts[i], document_type="Terms of Service",
            fingerprint=fingerprint(texts[i]), now=datetime.now(UTC),
        )  # fmt: skip
        changes.append(change_data(record, refs[i].key.replace("versions/", "changes/").replace(".md", ".json")))
    return tuple(changes)


def href(change: dict[str, Any]) -> str:
    return f"/changes/{change['platform']}/{change['document']}/{change['stamp']}"


def drawn(lanes: list[timeline.Lane], **options: Any) -> ET.Element:
    """The SVG parsed as XML: well-formed, whatever the text in it."""
    return ET.fromstring(str(timeline.svg(lanes, **options)))


def marks(svg: ET.Element) -> list[ET.Element]:
    return [a for a in svg.iter(f"{SVG}a") if "tl-mark" in a.get("class", "")]


@pytest.fixture
def changes() -> tuple[dict[str, Any], ...]:
    return midjourney_changes()


def test_every_change_is_a_link_to_its_page_named_by_its_date_kind_and_summary(changes):
    lane = timeline.Lane("Terms of Service", [timeline.marker(c, href(c)) for c in changes])
    found = marks(drawn([lane]))
    assert len(found) == len(changes) == 7
    assert sorted(a.get("href") for a in found) == sorted(href(c) for c in changes)
    for a in found:
        change = next(c for c in changes if href(c) == a.get("href"))
        label = a.get("aria-label")
        assert change["summary"] in label and a.find(f"{SVG}title").text == label  # keyboard and pointer alike
        day = datetime.fromisoformat(change["fetched_at"])
        assert label.startswith(f"{day.day} {day:%b %Y}: ")


def test_substantive_changes_are_coloured_and_lettered_by_severity_the_rest_small_and_grey(changes):
    found = marks(drawn([timeline.Lane("Terms of Service", [timeline.marker(c, href(c)) for c in changes])]))
    by_href = {a.get("href"): a for a in found}
    seen = set()
    for change in changes:
        a = by_href[href(change)]
        circle = a.find(f"{SVG}circle")
        if change["kind"] == "substantive":
            seen.add(change["severity"])
            assert circle.get("fill") == timeline.SEVERITY_COLOURS[change["severity"]]
            assert a.find(f"{SVG}text").text == timeline.SEVERITY_LETTERS[change["severity"]]  # not colour alone
            assert f"{change['severity'].capitalize()} severity substantive change" in a.get("aria-label")
            assert float(circle.get("r")) > 5
        else:
            assert circle.get("fill") == timeline.OTHER_COLOUR and float(circle.get("r")) < 5
            assert a.find(f"{SVG}text") is None
            assert "Cosmetic change" in a.get("aria-label")
    assert seen == {"low", "medium"}  # Midjourney's first changes: none high


def test_each_document_has_its_lane_and_its_label_links_to_the_document(changes):
    lanes = [
        timeline.Lane("Terms of Service", [timeline.marker(c, href(c)) for c in changes], href="/documents/m/tos"),
        timeline.Lane("Community Guidelines", [], href="/documents/m/cg", note="no version archived yet"),
    ]
    svg = drawn(lanes)
    groups = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "tl-lane"]
    assert len(groups) == 2
    assert [g.find(f"{SVG}a").get("href") for g in groups] == ["/documents/m/tos", "/documents/m/cg"]
    assert len(marks(groups[0])) == len(changes) and marks(groups[1]) == []
    assert "no version archived yet" in "".join(groups[1].itertext())
    [rail] = [line for line in svg.iter(f"{SVG}line") if line.get("class") == "tl-rail"]  # only a lane with changes
    assert rail is not None


def test_the_axis_names_each_year_and_ticks_the_months(changes):
    svg = drawn([timeline.Lane("Terms of Service", [timeline.marker(c, href(c)) for c in changes])])
    axis = next(g for g in svg.iter(f"{SVG}g") if g.get("class") == "tl-axis")
    assert axis.get("aria-hidden") == "true"  # the markers' labels carry their dates
    years = [t.text for t in axis.iter(f"{SVG}text") if t.get("class") == "tl-year-label"]
    assert years == ["2023", "2024", "2025"]  # December 2023 to February 2025
    months = [t.text for t in axis.iter(f"{SVG}text") if t.get("class") == "tl-month"]
    assert months[:4] == ["Dec", "Jan", "Feb", "Mar"] and months[-1] == "Mar" and len(months) == 16  # every month


def test_a_longer_span_ticks_quarters_then_years_without_crowding_labels(changes):
    lane = timeline.Lane("Terms of Service", [timeline.marker(c, href(c)) for c in changes])
    quarters = drawn([lane], end=datetime(2026, 2, 1, tzinfo=UTC))
    months = [t.text for t in quarters.iter(f"{SVG}text") if t.get("class") == "tl-month"]
    assert months[:3] == ["Jan", "Apr", "Jul"] and len(months) == 9  # 2024 to 2026, a tick a quarter
    years = drawn([lane], end=datetime(2029, 1, 1, tzinfo=UTC))
    labels = [t.text for t in years.iter(f"{SVG}text") if t.get("class") == "tl-year-label"]
    assert labels == ["2024", "2025", "2026", "2027", "2028", "2029"]  # December 2023's would overlap 2024's
    assert [t for t in years.iter(f"{SVG}text") if t.get("class") == "tl-month"] == []


# Pixels a character of the axis labels takes in Chromium's sans-serif ("2026" in 12 px bold: 33.4)
LABEL_CHAR_PX = {"tl-year-label": 8.5, "tl-month": 6.2}


def test_axis_labels_stay_inside_the_viewbox_whatever_month_the_axis_ends(changes):
    """An axis ending on a new year ("2026" at its last tick) once had that label cut at the SVG's
    right edge ("202"): every label fits, whatever month the axis ends, and none overlaps another."""
    lane = timeline.Lane("Terms of Service", [timeline.marker(c, href(c)) for c in changes])
    for months in range(14, 110):  # the changes end in February 2025: ticks by month, quarter, then year
        end = datetime(2024 + months // 12, months % 12 + 1, 15, tzinfo=UTC)
        svg = drawn([lane], end=end)
        right = float(svg.get("viewBox").split()[2])
        years = []
        for label in svg.iter(f"{SVG}text"):
            per_char = LABEL_CHAR_PX.get(label.get("class", ""))
            if per_char is None:
                continue
            width, x = len(label.text) * per_char, float(label.get("x"))
            left = x - width if label.get("text-anchor") == "end" else x
            assert left >= 0 and left + width <= right, (f"{end:%b %Y}", label.text, left, width)
            if label.get("class") == "tl-year-label":
                years.append((left, left + width))
        assert all(a_end < b_start for (_, a_end), (b_start, _) in zip(years, years[1:], strict=False)), end
    new_year = drawn([lane], end=datetime(2025, 12, 18, tzinfo=UTC))  # the axis ends on 1 January 2026
    assert [t.text for t in new_year.iter(f"{SVG}text") if t.get("class") == "tl-year-label"][-1] == "2026"


def test_markers_lie_left_to_right_in_time(changes):
    lane = timeline.Lane("Terms of Service", [timeline.marker(c, href(c)) for c in changes])
    xs = {a.get("href"): float(a.find(f"{SVG}circle").get("cx")) for a in marks(drawn([lane]))}
    ordered = [xs[href(c)] for c in sorted(changes, key=lambda c: c["stamp"])]
    assert ordered == sorted(ordered) and ordered[0] < ordered[-1]
    assert ordered[0] > timeline.LABEL_WIDTH and ordered[-1] < timeline.WIDTH


def test_provision_codes_under_a_marker_are_unique_and_the_legend_names_them(changes):
    ids = taxonomy().categories
    codes = timeline.category_codes(ids)
    assert len(set(codes.values())) == len(ids)
    assert (codes["model-training"], codes["training-opt-out"]) == ("MT", "TOO")
    assert codes["data-retention"] != codes["dispute-resolution"]
    lane = timeline.Lane("Terms of Service", [timeline.marker(c, href(c)) for c in changes])
    written = [t.text for t in drawn([lane], codes=codes).iter(f"{SVG}text") if t.get("class") == "tl-codes"]
    first = next(c for c in changes if c["kind"] == "substantive" and c["categories"])
    assert written and written[0].startswith(codes[first["categories"][0]])
    labels = {c: taxonomy().label(c) for c in ids}
    legend = timeline.legend(changes, codes, labels)
    assert (codes[first["categories"][0]], labels[first["categories"][0]]) in legend


def test_on_a_category_timeline_a_marker_takes_that_provisions_severity(changes):
    change = next(c for c in changes if len({p["severity"] for p in c["provisions"]}) > 1)
    provision = next(p for p in change["provisions"] if p["severity"] != change["severity"])
    marker = timeline.marker(change, href(change), provision["id"])
    assert marker.severity == provision["severity"] and marker.categories == ()


def test_policy_text_in_a_summary_or_label_is_escaped(changes):
    hostile = {**changes[0], "summary": 'Adds <script>alert(1)</script> & "quotes" <a href="https://evil.test">x</a>'}
    lane = timeline.Lane(
        "<b>Terms</b> & more", [timeline.marker(hostile, href(hostile))], href="/documents/a/b?x=1&y=2"
    )
    markup = str(timeline.svg([lane]))
    assert "<script>" not in markup and 'evil.test">' not in markup and "<b>" not in markup
    assert "&lt;script&gt;" in markup and "&amp;" in markup
    svg = ET.fromstring(markup)
    assert [a.get("href") for a in svg.iter(f"{SVG}a")] == ["/documents/a/b?x=1&y=2", href(hostile)]


def test_no_lanes_or_one_change_still_draw_a_readable_axis(changes):
    empty = drawn([])
    assert "No changes recorded yet." in "".join(empty.itertext())
    one = drawn([timeline.Lane("Terms of Service", [timeline.marker(changes[0], href(changes[0]))])])
    months = [t.text for t in one.iter(f"{SVG}text") if t.get("class") == "tl-month"]
    assert len(months) >= timeline.MIN_MONTHS  # a single change is not drawn on a line of no width
