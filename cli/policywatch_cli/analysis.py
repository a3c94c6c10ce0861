"""`policywatch diff|replay`: the change analysis of two files or of a recorded history, no stack needed."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from policywatch.analysis.assess import analyse
from policywatch.catalog import Page
from policywatch.fetch.extraction.checks import ExtractionError, check_text
from policywatch.fetch.extraction.pages import page_text
from policywatch.fetch.settings import ArchivistSettings
from policywatch_cli.replay import HistoryError, replay
from policywatch_cli.replay import load as load_history
from policywatch_cli.stack import CliError, Commands, Out, binary_kind, read_bytes, read_text


def register(commands: Commands) -> None:
    diff = commands.add_parser(
        "diff", help="analyse the change between two versions (HTML, PDF, Markdown or text files)"
    )
    diff.add_argument("old")
    diff.add_argument("new")
    diff.add_argument(
        "--select", action="append", help="CSS selector of the policy text in HTML files (repeat; default body)"
    )
    diff.add_argument("--remove", action="append", help="CSS selector of what to drop from it (repeat)")
    diff.add_argument("--url", help="the page's address, to make links absolute")
    diff.add_argument("--json", action="store_true", help="the change record's analysis fields as JSON")
    diff.set_defaults(run=cmd_diff)
    history = commands.add_parser(
        "replay", help="replay a recorded history (index.json and its versions) through the pipeline"
    )
    history.add_argument("dir")
    history.add_argument("--json", action="store_true", help="one JSON object per version")
    history.add_argument("--full", action="store_true", help="with --json: include every changed passage")
    history.set_defaults(run=cmd_replay)


def cmd_diff(args: argparse.Namespace, out: Out) -> None:
    old = _version_text(args.old, args.select, args.remove, args.url)
    new = _version_text(args.new, args.select, args.remove, args.url)
    if old == new:
        out(
            json.dumps({"kind": None, "alert": False, "summary": "identical texts"})
            if args.json
            else "identical texts: no change"
        )
        return
    result = analyse(old, new)
    if args.json:
        out(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return
    flag = "ALERT" if result.alert else "no alert"
    out(f"{result.kind} \u00b7 severity {result.severity} \u00b7 {result.direction} \u00b7 {flag}")
    out(result.summary)
    if result.effective_date:
        changed = " (changed)" if result.effective_date_changed else ""
        out(f"Effective date stated in the new text: {result.effective_date.isoformat()}{changed}")
    for provision in result.provisions:
        says = "; ".join(provision["says"]) or "reworded"
        out(f"\n[{provision['severity']}] {provision['label']} ({provision['direction']}): {says}")
        for q in provision["quotes"]:
            out(f"    under \u201c{q['heading']}\u201d")
            if q["before"]:
                out(f"    - {q['before']}")
            if q["after"]:
                out(f"    + {q['after']}")
        refs = ", ".join(f"{e['regulation']} {e['reference']}" for e in provision["regulations"]["engages"])
        out(f"    engages ({provision['regulations']['exposure']} exposure): {refs}")
    counts = ", ".join(f"{n} {op}" for op, n in result.counts().items() if n) or "none"
    noise = ", ".join(f"{n} {cls}" for cls, n in sorted(result.noise().items())) or "none"
    out(f"\nSubstantive passages: {counts}. Not substantive: {noise}.")


def _version_text(path: str, select: list[str] | None, remove: list[str] | None, url: str | None) -> str:
    """A file as the pipeline sees it: HTML or PDF extracted and checked, Markdown or text as it is."""
    suffix = Path(path).suffix.lower()
    try:
        if suffix in (".html", ".htm", ".pdf"):
            body = read_bytes(path)
            content_type = "application/pdf" if suffix == ".pdf" else "text/html"
            binary = binary_kind(body, nul=False)  # HTML may be UTF-16, whose NUL bytes are text
            if binary and not (suffix == ".pdf" and binary == "a PDF"):  # an image or archive by another name
                raise CliError(f"{path}: binary data, not {'a PDF' if suffix == '.pdf' else 'HTML'} ({binary})")
            page = Page(url or Path(path).resolve().as_uri(), tuple(select or ["body"]), tuple(remove or []))
            text = page_text(page, body, content_type, url or "")
        else:
            text = read_text(path)
        check_text(text, min_chars=ArchivistSettings.from_env().min_text_chars)
    except ExtractionError as exc:
        raise CliError(f"{path}: {exc}") from None
    return text


def cmd_replay(args: argparse.Namespace, out: Out) -> None:
    try:
        document, versions = load_history(Path(args.dir))
    except HistoryError as exc:
        raise CliError(str(exc)) from None
    kinds: dict[str, int] = {}
    alerts = 0
    if not args.json:
        out(f"{document}: {len(versions)} recorded versions")
    for step in replay(versions):
        kinds[step.kind] = kinds.get(step.kind, 0) + 1
        alerts += step.alert
        if args.json:
            out(json.dumps(step.to_dict(full=args.full), ensure_ascii=False))
            continue
        line = step.to_dict()
        flag = "ALERT" if step.alert else "     "
        categories = ",".join(line["categories"][:4]) + (",\u2026" if len(line["categories"]) > 4 else "")
        out(
            f"{step.seq:>4} {step.recorded_at[:10]} {flag} {line['severity']:<6} {step.kind:<18} {categories:<40} {step.summary}"
        )
    if not args.json:
        tally = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
        out(f"{alerts} alert{'s' if alerts != 1 else ''} over {len(versions)} versions ({tally})")
