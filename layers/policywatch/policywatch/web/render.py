"""The site's HTML: its Jinja2 environment, its static files, and what its templates show of a change.

Templates are in ``web/templates`` (loaded from the package, so they ship in the layer), parsed
once per warm function, autoescaped: policy text is data, never markup, and the only links on
a page are ours. Policy text is also shown without control or invisible characters
(``messages.render.one_line``), so no bidi mark can reorder what a reader sees.

``change_view`` turns a change record (recorded, or computed by the compare page) into what the
change page shows: every substantive passage with its word-level changes, the other passages
grouped by what changed in them (for a link, which link and from what target to what target),
the provisions with their quotes, and the evidence.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from policywatch.analysis.blocks import parse
from policywatch.messages.render import one_line
from policywatch.text.plain import plain
from policywatch.text.wordchanges import quote_delta
from policywatch.web.pages import PAGE_CACHE, STATIC_CACHE, PageResponse

if TYPE_CHECKING:
    from jinja2 import Environment

SITE_NAME = "policywatch"
SEVERITIES = ("high", "medium", "low")
MINOR_SHOWN = 60  # passages of one non-substantive class the change page lists (the count says how many)
STATIC_TYPES = {"site.css": "text/css; charset=utf-8", "site.js": "text/javascript; charset=utf-8"}
_INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})  # controls, bidi and zero-width marks, private use
STAMP = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z$")

# Non-substantive passages, by class: a heading that says what changed in them (docs/diff.md §3).
MINOR_CLASSES = {
    "link": "Link targets changed (same words)",
    "formatting": "Reformatted (same words)",
    "date": "Dates",
    "wording": "Minor rewordings",
    "moved": "Moved unchanged",
    "label": "Page labels",
    "navigation": "Table-of-contents entries",
    "chrome": "Page chrome (menus, footers, banners, widgets)",
    "unbundled": "Passages of documents the page no longer carries",
}
KIND_LABELS = {
    "substantive": "Substantive",
    "cosmetic": "Cosmetic",
    "date-only": "Date only",
    "flap": "Flap",
    "technical": "Technical",
}
# A Markdown link or image, its text without brackets but for one image inside it. Each attempt
# reads no further than the next bracket or parenthesis: linear on any text (issue 11).
_TEXT = r"(?:[^\[\]!]|!(?!\[))*+"  # link text up to a bracket or an image's "!["
_LINK = re.compile(
    rf"(?P<image>!?)\[(?P<text>{_TEXT}(?:!\[[^\[\]]*+\]\([^()\s]*+\){_TEXT})?)\]\((?P<target>[^()\s]*+)[^()]*+\)"
)
_IMAGE_IN_TEXT = re.compile(r"!\[[^\[\]]*+\]\((?P<src>[^()\s]*+)[^()]*+\)")
LINKS_READ_CHARS = 20_000  # of a passage (the record keeps 600 of each)


@cache
def _env() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined  # here: at the first page

    env = Environment(
        loader=PackageLoader("policywatch.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(day=day, moment=moment, text=text, markdown=markdown, size=size, kind=kind_label)
    env.globals.update(site_name=SITE_NAME, minor_classes=MINOR_CLASSES)
    return env


def render(template: str, **context: Any) -> str:
    return _env().get_template(template).render(**context)


def page(template: str, *, status: int = 200, cache: str = PAGE_CACHE, **context: Any) -> PageResponse:
    """A page of the site: ``template`` rendered with ``context``."""
    return PageResponse(status, render(template, **context), cache=cache)


@cache
def _static(name: str) -> str:
    return resources.files("policywatch.web").joinpath("static", name).read_text(encoding="utf-8")


def static(name: str) -> PageResponse | None:
    """``/static/{name}``: the stylesheet or the script, or None for anything else."""
    if name not in STATIC_TYPES:
        return None
    return PageResponse(200, _static(name), STATIC_TYPES[name], cache=STATIC_CACHE)


# -- filters --


def when(value: str | None) -> datetime | None:
    """An instant as the records write it: ISO 8601 ("2025-08-29T00:32:02Z"), a day, or an archive stamp."""
    if not value:
        return None
    stamp = STAMP.match(value)
    if stamp:
        year, month, day_, hour, minute, second = (int(part) for part in stamp.groups()[:6])
        return datetime(year, month, day_, hour, minute, second, tzinfo=UTC)
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def day(value: str | None) -> str:
    """'2025-08-29T00:32:02Z' (or a day, or a stamp) -> '29 Aug 2025'."""
    found = when(value)
    if found is None:
        return value or ""
    if isinstance(value, str) and len(value) == 10:  # a day: no time zone to move it by
        found = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
    return f"{found.day} {found:%b %Y}"


def moment(value: str | None) -> str:
    """'2025-08-29T00:32:02Z' -> '29 Aug 2025, 00:32 UTC'."""
    found = when(value)
    return f"{found.day} {found.astimezone(UTC):%b %Y, %H:%M} UTC" if found else (value or "")


def text(value: str | None) -> str:
    """Policy text as a page shows it: one line, without control or invisible characters (escaped later)."""
    return one_line(value or "")


def markdown(value: str | None) -> str:
    """Policy Markdown shown as written (line breaks kept), without control or invisible characters."""
    kept = "\n\t"
    return "".join(c for c in value or "" if c in kept or unicodedata.category(c) not in _INVISIBLE)


def size(chars: int | None) -> str:
    if not chars:
        return "0 characters"
    return f"{chars:,} characters" if chars < 10_000 else f"{chars / 1000:,.0f}k characters"


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.capitalize())


# -- a change as its page shows it --


def change_view(record: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    """What the change page shows of ``record``: passages, grouped minor passages, provisions, evidence."""
    blocks = record.get("blocks", [])
    substantive = [_passage(block, labels) for block in blocks if block.get("class") == "text"]
    groups: dict[str, list[dict[str, Any]]] = {}
    for block in blocks:
        if block.get("class") != "text":
            groups.setdefault(block.get("class", "other"), []).append(block)
    minor = []
    counts = record.get("noise") or {}
    for cls in [*MINOR_CLASSES, *sorted(set(groups) - set(MINOR_CLASSES))]:
        if cls not in groups:
            continue
        shown = [_minor(block) for block in groups[cls][:MINOR_SHOWN]]
        total = max(counts.get(cls, 0), len(groups[cls]))
        minor.append({"cls": cls, "title": MINOR_CLASSES.get(cls, cls), "passages": shown, "total": total})
    return {
        "substantive": substantive,
        "substantive_total": sum((record.get("counts") or {}).values()),
        "minor": minor,
        "provisions": [_provision(provision) for provision in record.get("provisions", [])],
        "limits": record.get("limits", []),
    }


def _passage(block: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    before, after = plain(block.get("before", "")), plain(block.get("after", ""))
    delta = block.get("delta") or (quote_delta(before, after) if before and after else [])
    return {
        "op": block.get("op", "modified"),
        "heading": block.get("heading", ""),
        "moved_from": block.get("moved_from", ""),
        "before": before,
        "after": after,
        "delta": delta,
        "severity": block.get("severity", ""),
        "direction": block.get("direction", ""),
        "categories": [labels.get(category, category) for category in block.get("categories", [])],
        "says": [finding["says"] for finding in block.get("findings", []) if finding.get("says")],
    }


def _minor(block: dict[str, Any]) -> dict[str, Any]:
    """A non-substantive passage and exactly what changed in it."""
    raw_before, raw_after = block.get("before", ""), block.get("after", "")
    before, after = plain(raw_before), plain(raw_after)
    view: dict[str, Any] = {
        "op": block.get("op", "modified"),
        "heading": block.get("heading", ""),
        "moved_from": block.get("moved_from", ""),
        "before": before,
        "after": after,
        "raw_before": raw_before,
        "raw_after": raw_after,
        "delta": [],
        "links": [],
    }
    if block.get("class") in ("link", "unbundled", "chrome", "navigation") and view["op"] == "modified":
        view["links"] = link_changes(raw_before, raw_after)
    if view["op"] == "modified" and before != after and before and after:
        view["delta"] = quote_delta(before, after)
    return view


def link_changes(before: str, after: str) -> list[dict[str, Any]]:
    """The links (and images) that differ between two Markdown passages, in the order they appear.

    Each is ``text`` (the link's words, or "image" and its source) with its target ``before``
    and ``after`` (None: no link there); ``gone`` when it is not in the new passage at all,
    ``new`` when it was not in the old one. A standalone image has no target: an image that
    lost its link is the same image, its target now None.
    """
    old, new = _links(before[:LINKS_READ_CHARS]), _links(after[:LINKS_READ_CHARS])
    for pair in list(old):
        if pair in new:  # the same link on both sides: not a change
            old.remove(pair)
            new.remove(pair)
    changes: list[dict[str, Any]] = []
    for label, target in old:
        match = next((pair for pair in new if pair[0] == label), None)
        if match is not None:
            new.remove(match)
            changes.append({"text": label, "before": target, "after": match[1], "gone": False, "new": False})
        else:
            changes.append({"text": label, "before": target, "after": None, "gone": True, "new": False})
    changes += [{"text": label, "before": None, "after": target, "gone": False, "new": True} for label, target in new]
    return changes


def _links(markdown: str) -> list[tuple[str, str | None]]:
    """Each link as (its words, its target) and each standalone image as ("image <source>", None)."""
    found: list[tuple[str, str | None]] = []
    for match in _LINK.finditer(markdown):
        inner = match["text"]
        if match["image"]:
            found.append((f"image {match['target']}", None))
            continue
        image = _IMAGE_IN_TEXT.search(inner)
        label = f"image {image['src']}" if image is not None else plain(inner) or "anchor (no link text)"
        found.append((label, match["target"]))
    return found


def _provision(provision: dict[str, Any]) -> dict[str, Any]:
    quotes = []
    for quote in provision.get("quotes", []):
        before, after = plain(quote.get("before", "")), plain(quote.get("after", ""))
        delta = quote_delta(before, after) if before and after else []
        quotes.append({"heading": quote.get("heading", ""), "before": before, "after": after, "delta": delta})
    return {
        "id": provision["id"],
        "label": provision.get("label", provision["id"]),
        "severity": provision.get("severity", "none"),
        "direction": provision.get("direction", "neutral"),
        "says": provision.get("says", []),
        "quotes": quotes,
        "regulations": provision.get("regulations") or {},
    }


# -- a version's text, its provisions marked --


def text_view(text: str | None, marks: list[list[Any]], labels: dict[str, str]) -> dict[str, Any]:
    """A version's passages as the page shows them (``blocks``), each with the provision labels its
    profile marks (``analysis.site.profile``: block index -> categories); and ``found``: each
    category marked, its first passage and how many passages carry it, in taxonomy order.

    Headings become <h3>..<h6> under the page's <h2>, never skipping a level: the text's own
    levels are often uneven (a policy starting at ### or jumping from # to ####).
    """
    marked = {index: categories for index, categories in marks}
    blocks = parse(text or "")
    top = min((block.level for block in blocks if block.kind == "heading"), default=1)
    out: list[dict[str, Any]] = []
    found: dict[str, dict[str, Any]] = {}
    last = 2
    for index, block in enumerate(blocks):
        if block.kind == "row":
            shown = " | ".join(plain(cell) for cell in block.text.strip().strip("|").split("|"))
        else:
            shown = block.plain
        if not shown.strip():
            continue
        level = block.level
        if block.kind == "heading":
            level = last = min(block.level - top + 3, last + 1, 6)
        categories = [{"id": c, "label": labels.get(c, c)} for c in marked.get(index, [])]
        out.append({"index": index, "kind": block.kind, "level": level, "text": shown, "categories": categories})
        for category in categories:
            entry = found.setdefault(category["id"], {"label": category["label"], "first": index, "count": 0})
            entry["count"] += 1
    order = {category: rank for rank, category in enumerate(labels)}
    ranked = sorted(found.items(), key=lambda item: order.get(item[0], len(order)))
    return {"blocks": out, "found": [entry for _, entry in ranked]}
