"""The site's HTML: its Jinja2 environment, its static files, and what its templates show of a change.

Templates are in ``web/templates`` (loaded from the package, so they ship in the layer), parsed
once per warm function, autoescaped: policy text is data, never markup, and the only links on
a page are ours. Policy text is also shown without control or invisible characters
(``messages.render.one_line``), so no bidi mark can reorder what a reader sees.

``change_view`` turns a change record (recorded, or computed by the compare page) into what the
change page shows: every substantive passage with its word-level changes, the other passages
grouped by what changed in them (for a link, which link and from what target to what target;
for a heading renumbered, that it was), the provisions with their quotes, the date each
version states for itself (``dating_note``: a re-dating flag stands out), and the evidence. A
passage the record keeps only the first 600 characters of (``analysis.diff.quote``) says so and
links to the archived version that has it whole.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from policywatch.analysis.blocks import parse
from policywatch.analysis.diff import MAX_QUOTE_CHARS
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
RENUMBERED = "Renumbered or reformatted (no other words changed)"  # the formatting group, when a number changed
# A document's fetch health as a page says it (``health_status``).
HEALTH_WORDS = {
    "ok": "OK",
    "failing": "Failing",
    "waiting": "Waiting for a first fetch",
    "archived": "History archived; no fetch by this stack yet",
    "retired": "No longer watched",
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
_NUMBER = re.compile(r"\d+")
_OPEN_MARKUP = re.compile(r"<[/a-zA-Z][^<>]*$|!?\[[^\[\]]*\]\([^()]*$|!\[[^\[\]]*$")  # a tag, target or image cut open
_SPACE_IN_PUNCTUATION = re.compile(r"\s+(?=[.,;:!?)\]])|(?<=[(\[])\s+")  # "article ." where a link's hint was
FRAGMENT_WORDS = 8  # a shortened passage's link opens its version at the passage's first words


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
    env.filters.update(health=health_words, health_status=health_status)
    env.globals.update(site_name=SITE_NAME, minor_classes=MINOR_CLASSES, quote_chars=MAX_QUOTE_CHARS)
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


def health_status(doc: dict[str, Any]) -> str:
    """A document's fetch health as the site tells it: ``archived`` when it has archived versions
    (its history, from the archive) but this stack has recorded no fetch of it yet."""
    status = str((doc.get("health") or {}).get("status", "waiting"))
    return "archived" if status == "waiting" and doc.get("versions") else status


def health_words(doc: dict[str, Any]) -> str:
    status = health_status(doc)
    return HEALTH_WORDS.get(status, status.capitalize())


def platform_health(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A platform's documents grouped by their health, the worst first: ``status``, ``words``, ``documents`` (types)."""
    order = ("failing", "waiting", "archived", "ok", "retired")
    groups: dict[str, list[str]] = {}
    for doc in documents:
        groups.setdefault(health_status(doc), []).append(doc["document_type"])
    ranked = sorted(groups.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order))
    return [{"status": s, "words": HEALTH_WORDS.get(s, s.capitalize()), "documents": d} for s, d in ranked]


# -- a change as its page shows it --


def change_view(record: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    """What the change page shows of ``record``: passages, grouped minor passages, provisions, evidence."""
    blocks = record.get("blocks", [])
    whole = _versions(record)
    substantive = [_passage(block, labels, whole) for block in blocks if block.get("class") == "text"]
    groups: dict[str, list[dict[str, Any]]] = {}
    for block in blocks:
        if block.get("class") != "text":
            groups.setdefault(block.get("class", "other"), []).append(block)
    minor = []
    counts = record.get("noise") or {}
    for cls in [*MINOR_CLASSES, *sorted(set(groups) - set(MINOR_CLASSES))]:
        if cls not in groups:
            continue
        shown = [_minor(block, whole) for block in groups[cls][:MINOR_SHOWN]]
        total = max(counts.get(cls, 0), len(groups[cls]))
        title = RENUMBERED if any(p["renumbered"] for p in shown) else MINOR_CLASSES.get(cls, cls)
        minor.append({"cls": cls, "title": title, "passages": shown, "total": total})
    return {
        "substantive": substantive,
        "substantive_total": sum((record.get("counts") or {}).values()),
        "minor": minor,
        "provisions": [_provision(provision, whole) for provision in record.get("provisions", [])],
        "limits": record.get("limits", []),
        "dating": dating_note(record.get("dating")),
    }


def dating_note(dating: dict[str, Any] | None) -> dict[str, Any] | None:
    """The sentence a page (or a feed entry) says of a change's ``dating``, and its ``flag``; None
    when neither version states a date, or the record predates the field."""
    if not dating:
        return None
    words = one_line(dating.get("label") or "last updated")
    # "its “Last updated” date", but "its “Version Effective Date”", "its “更新日期”"
    label = f"\u201c{words}\u201d" + ("" if words.lower().endswith(("date", "日期", "日")) else " date")
    flag, before, after = dating.get("flag"), stated_day(dating.get("before")), stated_day(dating.get("after"))
    if flag == "unchanged-date":
        sentence = f"The text changed but its {label} still says {after}."
    elif flag == "date-only":
        sentence = f"Only the {label} moved, from {before} to {after}; no other words changed."
    elif before and after:
        sentence = (
            f"Its {label} moved from {before} to {after}."
            if before != after
            else f"Its {label}, {after}, is the same in both versions."
        )
    elif after:
        sentence = f"The new version states its {label}, {after}; the previous one stated none."
    else:
        sentence = f"The previous version stated its {label}, {before}; the new one states none."
    return {"flag": flag, "text": sentence}


def stated_day(value: str | None) -> str:
    """A date a policy states for itself, in full: '2025-03-12' -> '12 March 2025', '2026-07' -> 'July 2026'."""
    if not value:
        return ""
    try:
        if len(value) == 7:
            return f"{date.fromisoformat(value + '-01'):%B %Y}"
        found = date.fromisoformat(value)
    except ValueError:
        return value
    return f"{found.day} {found:%B %Y}"


def _versions(record: dict[str, Any]) -> dict[str, str]:
    """The readable pages of the change's two versions, "before" and "after": where a passage is whole."""
    found = {}
    for side, which in (("before", "previous"), ("after", "current")):
        key = ((record.get("evidence") or {}).get(which) or {}).get("key", "")
        if key.startswith("versions/") and key.endswith(".md"):
            path, stamp = key.removeprefix("versions/").removesuffix(".md").rsplit("/", 1)
            found[side] = f"/documents/{path}/versions/{stamp}"
    return found


def _sides(raw: dict[str, Any], whole: dict[str, str]) -> tuple[str, str, dict[str, str]]:
    """A passage's two sides as plain text, and ``shortened``: for each side the record cut at
    ``MAX_QUOTE_CHARS`` (it ends "…" there), the address of its version, opened at the passage's
    first words (a text fragment). A cut side ends at its last whole word, then "…"."""
    shown: dict[str, str] = {}
    shortened: dict[str, str] = {}
    for side in ("before", "after"):
        text = raw.get(side) or ""
        if len(text) < MAX_QUOTE_CHARS or not text.endswith("\u2026"):
            shown[side] = plain(text)
            continue
        words = plain(_cut_back(text)).split()
        shown[side] = " ".join([*words, "\u2026"])
        if side in whole:
            start = quote(" ".join(words[:FRAGMENT_WORDS]), safe="").replace("-", "%2D")
            shortened[side] = whole[side] + (f"#:~:text={start}" if words else "")
    return shown["before"], shown["after"], shortened


def _cut_back(markdown: str) -> str:
    """A Markdown passage cut at a letter, back to its last whole word and without the markup
    the cut left open (a tag, a link's target, a link's or an image's "[")."""
    text = markdown.removesuffix("\u2026")
    opened = _OPEN_MARKUP.search(text)
    if opened and opened[0].startswith(("<", "!")):  # a tag or an image: what precedes it ends a word
        return text[: opened.start()]
    if opened:  # a link whose target was cut: its words, whole
        return text[: opened.start()] + opened[0][1:].split("](")[0]
    bracket = text.rfind("[")
    if bracket > text.rfind("]"):  # a link's text, cut: its words without the bracket
        text = text[:bracket] + text[bracket + 1 :]
    return text.rsplit(None, 1)[0] if text[-1:].isalnum() and " " in text.strip() else text


def _word_changes(before: str, after: str, shortened: dict[str, str]) -> list[dict[str, str]]:
    """The word-level changes of two plain texts. When both were cut, each at its own length, the
    words one has past where the other ends are not a change: the runs stop at the last shared word."""
    delta = quote_delta(before, after) if before and after else []
    if len(shortened) == 2 and delta and delta[-1]["op"] == "equal" and delta[-1]["text"].endswith("\u2026"):
        last = delta.pop()
        while delta and delta[-1]["op"] != "equal":
            delta.pop()
        delta.append(last)
    return delta


def _reads(text: str) -> str:
    """A plain text as a reader reads it: single-spaced, no space before a stop or after a bracket."""
    return _SPACE_IN_PUNCTUATION.sub("", " ".join(text.split()))


def _renumbered(before: str, after: str) -> bool:
    """Whether two plain texts differ only in their numbers: a heading or an item renumbered."""
    return before != after and _NUMBER.sub("#", before) == _NUMBER.sub("#", after)


def _passage(block: dict[str, Any], labels: dict[str, str], whole: dict[str, str]) -> dict[str, Any]:
    before, after, shortened = _sides(block, whole)
    own = block.get("delta")  # the record's word changes, made from the whole passage: nothing cut in them
    delta = own or _word_changes(before, after, shortened)
    return {
        "op": block.get("op", "modified"),
        "heading": block.get("heading", ""),
        "moved_from": block.get("moved_from", ""),
        "before": before,
        "after": after,
        "delta": delta,
        "shortened": {} if own else shortened,
        "severity": block.get("severity", ""),
        "direction": block.get("direction", ""),
        "categories": [labels.get(category, category) for category in block.get("categories", [])],
        "says": [finding["says"] for finding in block.get("findings", []) if finding.get("says")],
    }


def _minor(block: dict[str, Any], whole: dict[str, str]) -> dict[str, Any]:
    """A non-substantive passage and exactly what changed in it.

    A reformatted one is shown as the other passages are, in plain text (its Markdown only on
    request): ``same_text`` when the reader reads the same words, ``renumbered`` when only a
    number differs (a section renumbered).
    """
    raw_before, raw_after = block.get("before", ""), block.get("after", "")
    before, after, shortened = _sides(block, whole)
    modified = block.get("op", "modified") == "modified"
    if block.get("class") == "formatting" and modified:
        before, after = _reads(before), _reads(after)
    renumbered = block.get("class") == "formatting" and modified and _renumbered(before, after)
    delta = _word_changes(before, after, shortened) if modified and before != after else []
    view: dict[str, Any] = {
        "op": "renumbered" if renumbered else block.get("op", "modified"),
        "renumbered": renumbered,
        # the words read the same (case and a cut aside): the page shows them once
        "same_text": modified and (before == after or bool(delta) and all(run["op"] == "equal" for run in delta)),
        "heading": block.get("heading", ""),
        "moved_from": block.get("moved_from", ""),
        "before": before,
        "after": after,
        "raw_before": raw_before,
        "raw_after": raw_after,
        "delta": delta,
        "links": [],
        "shortened": shortened,
    }
    if block.get("class") in ("link", "unbundled", "chrome", "navigation") and modified:
        view["links"] = link_changes(raw_before, raw_after)
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


def _provision(provision: dict[str, Any], whole: dict[str, str]) -> dict[str, Any]:
    quotes = []
    for said in provision.get("quotes", []):
        before, after, shortened = _sides(said, whole)
        delta = _word_changes(before, after, shortened)
        heading = said.get("heading", "")
        quotes.append({"heading": heading, "before": before, "after": after, "delta": delta, "shortened": shortened})
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
