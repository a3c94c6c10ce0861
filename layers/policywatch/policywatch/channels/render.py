"""Email and SMS text from change events, through Jinja2 templates (autoescaped HTML)."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

SMS_MAX_CHARS = 320  # two concatenated segments at most


@cache
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("policywatch", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, **context: Any) -> str:
    return _env().get_template(template).render(**context)


def alert_email(change: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, text, html) of a same-day alert."""
    subject = f"[policywatch] {change['platform_name']} changed its {change['document_type']}"
    return subject, render("alert.txt", change=change), render("alert.html", change=change)


def digest_email(changes: list[dict[str, Any]], week_of: str) -> tuple[str, str, str]:
    platforms = sorted({c["platform_name"] for c in changes})
    subject = f"[policywatch] Weekly digest: {len(changes)} change(s) for {', '.join(platforms)}"
    context = {"changes": changes, "week_of": week_of}
    return subject, render("digest.txt", **context), render("digest.html", **context)


def alert_sms(change: dict[str, Any]) -> str:
    text = f"policywatch: {change['platform_name']} changed its {change['document_type']} ({change['severity']}). {change['summary']}"
    return text if len(text) <= SMS_MAX_CHARS else text[: SMS_MAX_CHARS - 1] + "\u2026"
