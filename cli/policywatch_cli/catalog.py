"""`policywatch catalog check|show|use|reset`: what is tracked, and the stack's override of it."""

from __future__ import annotations

import argparse

from policywatch.catalog import load_packaged, parse_catalog_json
from policywatch.fetch.sweep import current_catalog
from policywatch.storage.archive import CATALOG_KEY
from policywatch_cli.stack import Commands, Out, Stack, read_text


def register(commands: Commands) -> None:
    catalog = commands.add_parser("catalog", help="what is tracked").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    check = catalog.add_parser("check", help="validate the packaged catalog, or a catalog file")
    check.add_argument("--file", help="a catalog override file to validate instead")
    check.set_defaults(run=cmd_catalog_check)
    catalog.add_parser("show", help="the catalog in effect on the stack").set_defaults(run=cmd_catalog_show)
    use = catalog.add_parser("use", help="validate FILE and make it the stack's catalog override")
    use.add_argument("file")
    use.set_defaults(run=cmd_catalog_use)
    catalog.add_parser("reset", help="remove the override: back to the packaged catalog").set_defaults(
        run=cmd_catalog_reset
    )


def cmd_catalog_check(args: argparse.Namespace, out: Out) -> None:
    catalog = parse_catalog_json(read_text(args.file), args.file) if args.file else load_packaged()
    browser = sum(1 for d in catalog.documents() if d.render == "browser")
    out(
        f"ok: {len(catalog.platforms)} platforms, {len(catalog.documents())} documents ({browser} rendered in headless Chromium, {len(catalog.documents()) - browser} fetched over HTTP)"
    )


def cmd_catalog_show(args: argparse.Namespace, out: Out) -> None:
    catalog = current_catalog(Stack(args.stack).archive())
    for platform in catalog.platforms:
        out(f"{platform.id}  {platform.name}")
        for doc in platform.documents:
            note = "  [rendered in a browser]" if doc.render == "browser" else ""
            out(f"    {doc.type}: {doc.pages[0].url}{note}")


def cmd_catalog_use(args: argparse.Namespace, out: Out) -> None:
    body = read_text(args.file)
    catalog = parse_catalog_json(body, args.file)  # refuse to upload an invalid catalog
    archive = Stack(args.stack).archive()
    archive.put(CATALOG_KEY, body.encode(), "application/json", {})
    out(f"catalog override in effect: {len(catalog.platforms)} platforms, {len(catalog.documents())} documents")


def cmd_catalog_reset(args: argparse.Namespace, out: Out) -> None:
    archive = Stack(args.stack).archive()
    archive.s3.delete_object(Bucket=archive.bucket, Key=CATALOG_KEY)
    out("catalog override removed: the packaged catalog is in effect")
