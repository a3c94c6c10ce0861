"""What alerts look like: the same-day alert and weekly digest emails (text and HTML) and the SMS.

Templates are Jinja2 with HTML autoescaping: policy text is data, never markup, so a quote can
put no tag into our mail. Nor a link: mail clients and phones turn bare URLs, domains and
addresses in plain text into links, so policy text is defanged the way security alerts do it
(``hxxps://``, ``example[.]com``, ``privacy[@]example[.]com``) and the only links are ours.
Policy text that reaches a Subject header or an SMS is also made one line, without control or
invisible characters, and shortened. An email is rendered once per change and tier, with a random
marker where the unsubscribe sentence goes; ``Email.for_recipient`` puts each subscriber's link
in by string replacement (a change can fan out to thousands of subscribers, and Jinja per
recipient would be most of the notify function's time).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import cache
from itertools import groupby
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from policywatch.core.links import PRO_LINK_DAYS, Links
from policywatch.messages import sms
from policywatch.storage.archive import parse_key
from policywatch.subscribers.tiers import Tier
from policywatch.text.plain import plain
from policywatch.text.wordchanges import quote_delta

if TYPE_CHECKING:
    from jinja2 import Environment

SUBJECT_MAX_CHARS = 119
SUMMARY_MAX_CHARS = 1000  # in a body; real summaries are a sentence or three
HEADING_MAX_CHARS = 300  # a quote's section heading
PASSAGE_MAX_CHARS = 4000  # one quote or word run (the analysis keeps quotes to 600)
_NO_LINK = "To stop these emails, reply to this one and ask to unsubscribe."


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str
    marker: str = field(default="", repr=False)  # where the unsubscribe sentence goes, until filled
    pro_marker: str = field(default="", repr=False)  # where a Professional subscriber's own link goes
    change_id: str = ""  # an alert's change (its X-Policywatch-Change header; `policywatch deliveries` takes it)

    def for_recipient(self, unsubscribe_url: str | None, pro_url: str | None = None) -> Email:
        """This email with one subscriber's unsubscribe link (without one: how to unsubscribe by
        reply) and, on a Professional alert, their signed link to the Professional view."""
        if not self.marker:
            return self
        if unsubscribe_url:
            text = f"Unsubscribe with one click: {unsubscribe_url}"
            html = Markup('<a href="{}" style="color:#57606a;">Unsubscribe</a> with one click.').format(unsubscribe_url)
        else:
            text, html = _NO_LINK, escape(_NO_LINK)
        filled_text, filled_html = self.text.replace(self.marker, text), self.html.replace(self.marker, str(html))
        if self.pro_marker:
            pro_text, pro_html = "", ""
            if pro_url:
                pro_text = f"Regulatory mapping and compliance checks (your link, {PRO_LINK_DAYS} days): {pro_url}"
                pro_html = str(
                    Markup(
                        '<p style="margin:0 0 20px;font-size:14px;"><a href="{}" style="color:#0969da;">'
                        "Open the Professional view</a>: regulatory mapping and compliance checks "
                        "(your own link, valid for {} days).</p>"
                    ).format(pro_url, PRO_LINK_DAYS)
                )
            filled_text = filled_text.replace(self.pro_marker + "\n", pro_text + "\n" if pro_text else "")
            filled_html = filled_html.replace(self.pro_marker, pro_html)
        return replace(self, text=filled_text, html=filled_html, marker="", pro_marker="")


@cache
def _env() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape  # here: at the first rendering

    env = Environment(
        loader=PackageLoader("policywatch.messages", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["marked"] = _marked
    return env


def render(template: str, **context: Any) -> str:
    return _env().get_template(template).render(**context)


def alert_email(change: dict[str, Any], plan: Tier, links: Links) -> Email:
    """The same-day alert of one change, for every subscriber of ``plan`` (fill in with ``for_recipient``)."""
    marker = f"policywatch-unsubscribe-{secrets.token_hex(8)}"
    pro_marker = f"policywatch-pro-{secrets.token_hex(8)}" if plan.regulatory_mapping and links.enabled else ""
    context = {
        "c": _change(change, plan, links, quotes=True),
        "plan": plan.label,
        "unsubscribe": marker,
        "pro": pro_marker,
    }
    severity = change.get("severity", "none")
    subject = "[policywatch] " + (f"{severity.upper()} " if severity != "none" else "")
    subject += f"{change['platform_name']} changed its {change['document_type']}"
    if change.get("summary"):
        subject += f": {policy_text(change['summary'], SUBJECT_MAX_CHARS)}"
    return Email(
        _shorten(one_line(subject), SUBJECT_MAX_CHARS),
        render("alert.txt", **context),
        render("alert.html", **context),
        marker,
        pro_marker,
        one_line(str(change.get("change_id", ""))),
    )


def pro_path(change: dict[str, Any]) -> str | None:
    """The Professional view of a change (``/pro/changes/...``), signed per subscriber by ``Links.pro``."""
    key = _record_key(change)
    return "pro/" + key.removesuffix(".json") if key else None


def digest_email(
    changes: list[dict[str, Any]],
    week_of: str,
    plan: Tier,
    links: Links,
    coming: Sequence[dict[str, Any]] = (),
) -> Email:
    """The weekly digest of alerting changes, grouped by platform, and the changes ``coming``
    into effect soon, soonest first (fill in with ``for_recipient``)."""
    marker = f"policywatch-unsubscribe-{secrets.token_hex(8)}"
    views = sorted((_change(c, plan, links, quotes=False) for c in changes), key=lambda v: (v["platform"], v["at"]))
    groups = [{"platform": name, "changes": list(items)} for name, items in groupby(views, key=lambda v: v["platform"])]
    upcoming = [_upcoming(c, links) for c in sorted(coming, key=lambda c: (c["effective_date"], c["platform_name"]))]
    names = [g["platform"] for g in groups] or sorted({u["platform"] for u in upcoming})
    context = {
        "groups": groups,
        "upcoming": upcoming,
        "count": len(views),
        "week_of": _day(week_of),
        "plan": plan.label,
        "upsell": not plan.same_day,
        "unsubscribe": marker,
    }
    head = f"[policywatch] Week of {_day(week_of)}: {_count(len(views))}"
    if upcoming:
        head += f", {len(upcoming)} coming into effect"
    subject = f"{head} on {', '.join(names)}" if names else head
    for shown in range(len(names) - 1, 0, -1):  # name as many platforms as fit, then "and N more"
        if len(subject) <= SUBJECT_MAX_CHARS:
            break
        subject = f"{head} on {', '.join(names[:shown])} and {len(names) - shown} more"
    return Email(
        _shorten(one_line(subject), SUBJECT_MAX_CHARS),
        render("digest.txt", **context),
        render("digest.html", **context),
        marker,
    )


def reminder_email(change: dict[str, Any], days_before: int, plan: Tier, links: Links) -> Email:
    """The reminder that ``change`` takes effect in ``days_before`` days (fill in with ``for_recipient``)."""
    marker = f"policywatch-unsubscribe-{secrets.token_hex(8)}"
    view = {
        **_upcoming(change, links),
        "in_days": "in 1 day" if days_before == 1 else f"in {days_before} days",
        "summary": policy_text(change.get("summary", ""), SUMMARY_MAX_CHARS),
        "severity": change.get("severity", "none"),
        "id": one_line(str(change.get("change_id", ""))),
    }
    headline = (
        f"{view['platform']}'s {view['document']} change of {view['changed']} "
        f"takes effect on {view['effective']} ({view['in_days']})"
    )
    context = {"c": view, "headline": one_line(headline), "plan": plan.label, "unsubscribe": marker}
    return Email(
        _shorten(one_line(f"Reminder: {headline}"), SUBJECT_MAX_CHARS),
        render("reminder.txt", **context),
        render("reminder.html", **context),
        marker,
        change_id=view["id"],
    )


def _upcoming(change: dict[str, Any], links: Links) -> dict[str, Any]:
    """A change coming into effect, as a reminder and the digest show it."""
    key = _record_key(change)
    return {
        "platform": one_line(change["platform_name"]),
        "document": one_line(change["document_type"]),
        "changed": _day((change.get("detected_at") or "")[:10]),
        "effective": _day(change.get("effective_date")),
        "url": links.change(key) if key else None,
    }


def alert_sms(change: dict[str, Any], links: Links) -> str:
    """One SMS of at most ``sms.MAX_SEGMENTS`` segments; the summary gives way, the link never does."""
    severity = change.get("severity", "none")
    head = "policywatch: " + (f"{severity.upper()} " if severity != "none" else "")
    head += f"{sms.fold(one_line(change['platform_name']))} changed its {sms.fold(one_line(change['document_type']))}. "
    url = links.change(key) if (key := _record_key(change)) else None
    summary = policy_text(change.get("summary", ""), sms.MAX_SEGMENTS * 153)
    return sms.fit(head, sms.fold(summary), f" {url}" if url else "")


def _count(n: int) -> str:
    return f"{n} change" if n == 1 else f"{n} changes"


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if cut.rfind(" ") > limit // 2:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:.-") + "\u2026"


def _record_key(change: dict[str, Any]) -> str | None:
    """An event names its record; a record (the digest reads them) is keyed by its new version's stamp."""
    if change.get("record_key"):
        return change["record_key"]
    try:
        _, platform, document, stamp = parse_key(change["evidence"]["current"]["key"])
    except (KeyError, TypeError, ValueError):
        return None
    return f"changes/{platform}/{document}/{stamp}.json"


def _change(change: dict[str, Any], plan: Tier, links: Links, *, quotes: bool) -> dict[str, Any]:
    """What the templates show of a change event or record: present fields, formatted, within the tier."""
    key = _record_key(change)
    return {
        "id": one_line(str(change.get("change_id", ""))),
        "platform": change["platform_name"],
        "document": change["document_type"],
        "severity": change.get("severity", "none"),
        "summary": policy_text(change.get("summary", ""), SUMMARY_MAX_CHARS),
        "at": change.get("detected_at", ""),
        "detected": _moment(change.get("detected_at")),
        "effective": _day(change.get("effective_date")),
        "url": links.change(key) if key else None,
        "provisions": _provisions(change, quotes=quotes, regulations=plan.regulatory_mapping),
        "truncated": bool(change.get("blocks_truncated")),
        "evidence": _evidence(change, links) if plan.evidence_in_alerts else None,
    }


def _provisions(change: dict[str, Any], *, quotes: bool, regulations: bool) -> list[dict[str, Any]]:
    passages = [
        (i, plain(b.get("before", "")), plain(b.get("after", "")), b.get("delta") or [])
        for i, b in enumerate(change.get("blocks", []))
    ]
    shown: dict[tuple[Any, ...], str] = {}  # a passage quoted by several provisions is shown once
    views = []
    for provision in change.get("provisions", []):
        label, says = provision["label"], "; ".join(provision.get("says", []))
        view = {"label": label, "severity": provision.get("severity", "none"), "says": says[:1].upper() + says[1:]}
        view["quotes"] = []
        for quote in provision.get("quotes", []) if quotes else []:
            found = _shown(_quote(quote, passages, change["document_type"]))
            if found["key"] in shown:
                if shown[found["key"]] != label:
                    view["quotes"].append({**found, "seen_under": shown[found["key"]]})
                continue
            shown[found["key"]] = label
            view["quotes"].append({**found, "seen_under": None})
        mapping = provision.get("regulations") or {}
        view["regulations"] = None
        if regulations and mapping.get("engages"):
            view["regulations"] = {**mapping, "jurisdictions": ", ".join(mapping.get("jurisdictions", []))}
        views.append(view)
    return views


def _quote(quote: dict[str, Any], passages: list[tuple[Any, ...]], document: str) -> dict[str, Any]:
    """A quote as word runs: its passage's delta, else the diff stage's word diff of the two sentences."""
    before, after = plain(quote.get("before", "")), plain(quote.get("after", ""))
    heading = quote.get("heading", "")
    view = {"heading": "" if heading == document else heading.removeprefix(f"{document} > "), "before": before}
    view["after"] = after
    for index, old, new, delta in passages:
        if delta and (before or after) and before in old and after in new:
            return {**view, "key": ("passage", index), "delta": delta}
    delta = None
    if before and after:  # a passage the event left out (at most 20 go in): same runs as the diff stage's
        delta = quote_delta(plain(before), plain(after))
    return {**view, "key": ("quote", before, after), "delta": delta}


def _shown(quote: dict[str, Any]) -> dict[str, Any]:
    """A quote as the templates show it: defanged and bounded (matched to its passage before, on the real text)."""
    shown = {
        **quote,
        "heading": policy_text(quote["heading"], HEADING_MAX_CHARS),
        "before": policy_text(quote["before"], PASSAGE_MAX_CHARS),
        "after": policy_text(quote["after"], PASSAGE_MAX_CHARS),
    }
    if quote["delta"]:
        shown["delta"] = [{**run, "text": policy_text(run["text"], PASSAGE_MAX_CHARS)} for run in quote["delta"]]
    return shown


def _evidence(change: dict[str, Any], links: Links) -> dict[str, Any] | None:
    evidence = change.get("evidence") or {}
    versions = []
    for label, which in (("Previous version", "previous"), ("New version", "current")):
        if version := evidence.get(which):
            url = links.evidence(version["key"]) if version.get("key") else None
            fetched = _moment(version.get("fetched_at"))
            versions.append({**version, "label": label, "fetched": fetched, "url": url})
    if not versions:
        return None
    source = versions[-1].get("source_url", "")
    return {"versions": versions, "source": source, "source_is_link": source.startswith(("https://", "http://"))}


def _marked(delta: list[dict[str, str]]) -> str:
    """Word runs as plain text: [-removed-] {+added+}."""
    marks = {"removed": "[-{}-]", "added": "{{+{}+}}", "equal": "{}"}
    return " ".join(marks.get(run["op"], "{}").format(run["text"]) for run in delta)


def _moment(value: str | None) -> str:
    """'2025-08-29T00:32:05Z' -> '29 Aug 2025, 00:32 UTC'."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value).astimezone(UTC)
    except ValueError:
        return value
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def _day(value: str | None) -> str | None:
    """'2025-09-28' -> '28 September 2025'."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return value
    return f"{day.day} {day:%B %Y}"


# --- policy text in alerts --------------------------------------------------------------------

# What mail clients (Gmail, Outlook, Apple Mail) and phones turn into links in plain text, and
# the defanged form security alerts use for it, which none of them link:
#   https://x  -> hxxps://x      http(s) and ftp as hxxp(s) and fxp; any other scheme as file[:]//
#   www.x      -> www[.]x        the prefix after which some clients link anything
#   x.com      -> x[.]com        a dot after a letter or digit and before two letters (a TLD)
#   a@x.com    -> a[@]x[.]com    an address: its @ too
# Abbreviations (e.g., U.S.) and numbers (3.2) keep their dots: one letter or a digit follows.
# http, https and ftp are caught inside a word too ("foo_https://"): some clients look anywhere.
# Each rule looks at a few characters around a dot, @ or colon, so defanging is linear in the
# text; and a prefix of defanged text is defanged too, so shortening it exposes nothing.
_LINKISH = re.compile(
    r"(?P<scheme>(?:https?|ftp|(?<![\w+.-])[a-z][a-z0-9+.-]{0,31}):(?=[/\\]{2}))"
    r"|(?P<www>(?<![\w.-])www[.\uff0e\uff61])"
    r"|(?P<dot>(?<=[\w-])[.\uff0e\uff61](?=[^\W\d_]{2}))"
    r"|(?P<at>(?<=[\w.+-])@(?=[\w-]{1,63}[.\uff0e\uff61][^\W\d_]{2}))",
    re.IGNORECASE,
)
_SCHEMES = {"http:": "hxxp:", "https:": "hxxps:", "ftp:": "fxp:"}
_DEFANGED_SCHEMES = frozenset({"hxxp:", "hxxps:", "fxp:"})
_DROP = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})  # controls, format and bidi marks, private use, unassigned
_KEEP = frozenset("\u200c\u200d")  # zero-width non-joiner and joiner: some scripts and emoji need them
_STRAY_JOINER = re.compile(r"[\u200c\u200d](?![^\x00-\x7f])|(?<![^\x00-\x7f])[\u200c\u200d]")  # next to ASCII
POLICY_TEXT_BUDGET = 4  # policy_text reads at most this many times its limit (and 1,000 more)


def defang(text: str) -> str:
    """``text`` with every URL, domain and address made unlinkable, readably (see the rules above)."""
    return _LINKISH.sub(_defanged, text)


def _defanged(match: re.Match[str]) -> str:
    found = match.group()
    if match.lastgroup == "scheme":
        plain_scheme = _SCHEMES.get(found.lower())
        if plain_scheme is None:
            return found if found.lower() in _DEFANGED_SCHEMES else found[:-1] + "[:]"
        return "".join(c.upper() if o.isupper() else c for c, o in zip(plain_scheme, found, strict=True))  # HXXPS
    if match.lastgroup == "www":
        return found[:3] + "[.]"
    return "[@]" if found == "@" else "[.]"


def one_line(text: str) -> str:
    """``text`` on one line, without control, format (bidi, zero-width) or unassigned characters.

    For anything that reaches a header or an SMS: no CR or LF can start a new header line, and
    no invisible character can hide or reorder what a reader sees.
    """
    if not (text.isascii() and text.isprintable()):
        text = "".join(map(_visible, text))
        if "\u200c" in text or "\u200d" in text:  # only between non-ASCII characters: "x\u200d.com" is x.com
            text = _STRAY_JOINER.sub("", text)
    return " ".join(text.split())


def _visible(char: str) -> str:
    if char.isspace():
        return " "
    return "" if unicodedata.category(char) in _DROP and char not in _KEEP else char


def policy_text(text: str, limit: int) -> str:
    """Text from a policy as alerts show it: one line, visible characters, defanged, at most ``limit`` long."""
    budget = limit * POLICY_TEXT_BUDGET + 1000  # what lies beyond can never be shown: it is not read
    shown = _shorten(defang(one_line(text[:budget])), limit)
    if len(text) > budget and not shown.endswith("\u2026"):  # cut by the budget: say so
        shown = shown[: limit - 1].rstrip() + "\u2026"
    return shown
