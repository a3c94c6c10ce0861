"""`policywatch site rebuild`: write the site's read model again from the archive.

The diff stage writes the read model as it records each version; a stack upgraded to the site
(its archive older than its read model), or one whose read model is suspect, rebuilds it here.
"""

from __future__ import annotations

import argparse

from policywatch.analysis.changes import platform_name
from policywatch.analysis.site import rebuild
from policywatch.storage.site import SiteIndex
from policywatch_cli.stack import CliError, Commands, Out, Stack


def register(commands: Commands) -> None:
    site = commands.add_parser("site", help="the public site's read model")
    actions = site.add_subparsers(dest="action", required=True, metavar="ACTION")
    again = actions.add_parser(
        "rebuild", help="write the read model again from the archive (every document, or those named)"
    )
    again.add_argument("document", nargs="*", help="document keys (anthropic/privacy-policy); default: all archived")
    again.set_defaults(run=cmd_rebuild)


def cmd_rebuild(args: argparse.Namespace, out: Out) -> None:
    stack = Stack(args.stack)
    archive = stack.archive()
    site = SiteIndex(stack.output("SiteTableName"))
    archived = sorted({"/".join(key.split("/")[1:3]) for key in archive.keys("versions/")})
    unknown = [key for key in args.document if key not in archived]
    if unknown:
        raise CliError(f"no archived versions of {', '.join(unknown)} (keys look like anthropic/privacy-policy)")
    keys = args.document or archived
    total = 0
    for key in keys:
        count = rebuild(archive, site, key, platform_name=platform_name(key.split("/")[0]))
        total += count
        out(f"{key:<42} {count} version(s)")
    out(f"rebuilt {len(keys)} document(s), {total} version(s)")
