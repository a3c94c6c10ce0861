"""`policywatch extract URL-or-FILE`: the text the pipeline would archive for a declaration, and the checks' verdict.

A catalog author tries a page before declaring it: the same fetch (or headless Chromium with
``--render browser``), the same extraction with the same ``--select``/``--remove`` selectors,
the same sanity checks and fingerprint as the fetch and render functions. No stack is needed.

The text goes to stdout exactly as it would be archived (pipe it to a file to compare two
declarations); the verdict is one line on stderr. A text the checks refuse is an error: one
line naming the check, exit 1, nothing on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from policywatch.catalog import Document, Page, validate_platform
from policywatch.core.outbound import AddressError, parse_allowlist
from policywatch.fetch.extraction.checks import ExtractionError, check_text
from policywatch.fetch.extraction.pages import document_text
from policywatch.fetch.fetcher import FetchError, FetchResult, default_user_agent, fetch
from policywatch.fetch.render import Renderer, RenderSettings, find_chromium
from policywatch.fetch.settings import ArchivistSettings
from policywatch.text.noise import fingerprint, normalise
from policywatch_cli.stack import CliError, Commands, Out, read_bytes

_PDF_MAGIC = b"%PDF-"


def register(commands: Commands) -> None:
    extract = commands.add_parser(
        "extract", help="print the text the pipeline would archive for a page and a declaration (no stack needed)"
    )
    extract.add_argument("source", metavar="URL-or-FILE", help="an http(s) URL, or a saved HTML or PDF file")
    extract.add_argument(
        "--render", choices=("http", "browser"), default="http", help="browser: run the page's scripts in Chromium"
    )
    extract.add_argument(
        "--select", action="append", default=[], help="CSS selector of the policy (repeat); default main"
    )
    extract.add_argument("--remove", action="append", default=[], help="CSS selector to leave out (repeat)")
    extract.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="reach this host over plain http or at a private address (a local test site), as FETCH_ALLOWLIST",
    )
    extract.add_argument("--chromium", default="", help="Chromium to drive (default: CHROMIUM_PATH, else on PATH)")
    extract.add_argument("--page-seconds", type=float, default=30.0, help="a rendered page's limit (default 30)")
    extract.add_argument("--json", action="store_true", help="the text, its size, fingerprint and verdict as JSON")
    extract.set_defaults(run=cmd_extract)


def cmd_extract(args: argparse.Namespace, out: Out) -> None:
    select = tuple(args.select) or ("main",)
    is_url = urlsplit(args.source).scheme.lower() in ("http", "https")
    if not is_url and "://" in args.source:
        raise CliError(f"{args.source}: only http(s) URLs and files can be extracted")
    if args.render == "browser" and not is_url:
        raise CliError("--render browser needs a URL: a saved file is extracted as it is (serve it to render it)")
    try:
        allowlist = parse_allowlist(",".join(args.allow))
    except AddressError as error:
        raise CliError(f"--allow: {error}") from None
    document = _declaration(args.source if is_url else Path(args.source).resolve().as_uri(), select, args)
    started = time.monotonic()
    if is_url:
        page = _fetched(args, document, allowlist)
        body, content_type, url = page.body, page.content_type, page.final_url
    else:
        body = read_bytes(args.source)
        content_type = "application/pdf" if body.startswith(_PDF_MAGIC) else "text/html"
        if content_type == "text/html" and b"\x00" in body[:8192]:
            raise CliError(f"{args.source}: a binary file, not an HTML page or a PDF")
        url = document.pages[0].url
    settings = ArchivistSettings()
    try:
        text = document_text(document, [(body, content_type, url)])
        normalised = normalise(text)
        checked = check_text(text, min_chars=settings.min_text_chars, normalised=normalised)
    except ExtractionError as error:
        raise CliError(f"{args.source}: refused as {error.kind}: {error.detail}") from None
    seconds = time.monotonic() - started
    verdict = (
        f"ok: {checked.chars:,} characters, fingerprint {fingerprint(text, normalised=normalised)[:16]}, "
        f"{'rendered in Chromium' if args.render == 'browser' else 'fetched over HTTP' if is_url else 'read from a file'}"
        f" in {seconds:.1f} s"
    )
    if args.json:
        out(
            json.dumps(
                {
                    "source": args.source,
                    "render": args.render,
                    "declaration": document.to_dict(),
                    "chars": checked.chars,
                    "fingerprint": fingerprint(text, normalised=normalised),
                    "verdict": "ok",
                    "notice": checked.notice,
                    "text": text,
                },
                indent=2,
            )
        )
        return
    out(text.rstrip("\n"))
    print(verdict, file=sys.stderr)


def _declaration(url: str, select: tuple[str, ...], args: argparse.Namespace) -> Document:
    """The page as a catalog entry would declare it: its selectors checked as the catalog checks them."""
    page = {"url": url, "select": list(select), "remove": list(args.remove)}
    if urlsplit(url).scheme in ("http", "https"):
        platform = {"id": "extract", "name": "extract", "operator": "extract",
                    "documents": [{"type": "Privacy Policy", "render": args.render, "pages": [page]}]}  # fmt: skip
        problems = validate_platform(platform, "the command line")
        if problems:
            raise CliError(problems[0].replace("documents[0].pages[0].", ""))
    return Document("extract", "Privacy Policy", (Page(url, select, tuple(args.remove)),), render=args.render)


def _fetched(args: argparse.Namespace, document: Document, allowlist: frozenset[str]) -> FetchResult:
    page = document.pages[0]
    settings = ArchivistSettings()
    try:
        if args.render == "browser":
            renderer = Renderer(
                RenderSettings(
                    executable=args.chromium or _chromium(),
                    page_seconds=args.page_seconds,
                    max_bytes=settings.max_page_bytes,
                    user_agent=default_user_agent(),
                ),
                allowlist=allowlist,
            )
            try:
                return renderer.render(page.url, select=page.select)
            finally:
                renderer.close()
        return fetch(page.url, user_agent=default_user_agent(), max_bytes=settings.max_page_bytes, allowlist=allowlist)
    except FetchError as error:
        raise CliError(str(error).replace("on FETCH_ALLOWLIST", "allowed with --allow")) from None


def _chromium() -> str:
    found = find_chromium()
    if not found:
        raise CliError("no Chromium found: install it (scripts/bootstrap.sh does) or pass --chromium PATH")
    return found
