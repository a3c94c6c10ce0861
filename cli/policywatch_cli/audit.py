"""`policywatch evidence` builds an audit pack from the stack; `policywatch verify` checks one offline.

    policywatch evidence CHANGE -o pack.zip                 a change: its two versions, their raw
                                                            pages, the change record, the diff and
                                                            provisions, the chain and a checkpoint
    policywatch evidence PLATFORM/DOCUMENT [--from DATE] [--to DATE] -o pack.zip
    policywatch verify pack.zip [--key public-key.pem]      no stack, no network: exit 0 or the
                                                            first thing that fails

A pack carries the document's chain from its first version in the pack to its newest manifest,
and the newest signed checkpoint; when that checkpoint does not cover the chain's head yet, a
new one is made first (the checkpoint function, on the stack).
"""

from __future__ import annotations

import argparse
import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from policywatch.audit.packs import PackError, change_pack, covered, document_pack
from policywatch.core import clock
from policywatch.evidence.verify import VerifyError, verify
from policywatch.storage.archive import Archive
from policywatch_cli.deliveries import record_key
from policywatch_cli.stack import CliError, Commands, Out, Stack, read_bytes

DOCUMENT = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}/[a-z0-9][a-z0-9-]{0,80}$")
CHANGE_ID = re.compile(r"^[0-9a-f]{24}$")


def register(commands: Commands) -> None:
    chaining = commands.add_parser(
        "chain",
        help="chain versions archived before hash chains existed (or left unchained by a crash), now",
    )
    chaining.add_argument("documents", nargs="*", metavar="PLATFORM/DOCUMENT", help="default: every document")
    chaining.set_defaults(run=cmd_chain)

    evidence = commands.add_parser(
        "evidence",
        help="an audit pack of a change or of a document's history, verifiable offline (policywatch verify)",
    )
    evidence.add_argument(
        "subject", metavar="CHANGE|PLATFORM/DOCUMENT", help="a change id or page address, or a document"
    )
    evidence.add_argument(
        "--from", dest="start", metavar="DATE", help="a document's versions from this day (YYYY-MM-DD)"
    )
    evidence.add_argument("--to", dest="end", metavar="DATE", help="... to this day, included")
    evidence.add_argument("-o", "--output", required=True, metavar="PACK.zip")
    evidence.set_defaults(run=cmd_evidence)

    check = commands.add_parser("verify", help="check an audit pack offline: every hash, the chain, the signature")
    check.add_argument("pack", metavar="PACK.zip")
    check.add_argument("--key", metavar="PUBLIC-KEY.pem", help="verify with this key, not the one the pack brings")
    check.set_defaults(run=cmd_verify)


def cmd_chain(args: argparse.Namespace, out: Out) -> None:
    archive = Stack(args.stack).archive()
    documents = args.documents or sorted({"/".join(k.split("/")[1:3]) for k in archive.keys("versions/")})
    for document in documents:
        if not DOCUMENT.match(document):
            raise CliError(f"{document!r} is not PLATFORM/DOCUMENT")
    total = 0
    for document in documents:
        written = archive.chain(document)
        total += len(written)
        if written:
            out(f"{document}: {len(written)} version(s) chained")
    out(f"{total} manifest(s) written over {len(documents)} document(s); the next checkpoint signs them")


def cmd_verify(args: argparse.Namespace, out: Out) -> None:
    key = read_bytes(args.key).decode("ascii", "replace") if args.key else None
    try:
        verified = verify(read_bytes(args.pack), key)
    except VerifyError as exc:
        raise CliError(f"{args.pack} does not verify: {exc}") from None
    for line in verified.lines():
        out(line)


def cmd_evidence(args: argparse.Namespace, out: Out) -> None:
    stack = Stack(args.stack)
    archive = stack.archive()
    try:
        if DOCUMENT.match(args.subject):
            document = args.subject
            if not covered(archive, document):  # a checkpoint that signs the newest manifest first
                stack.invoke("CheckpointFunctionName")
            pack = document_pack(archive, document, args.start, args.end)
        else:
            if args.start or args.end:
                raise CliError("--from and --to go with a document (PLATFORM/DOCUMENT), not a change")
            key = _change_key(archive, args.subject)
            document = "/".join(key.split("/")[1:3])
            if not covered(archive, document):
                stack.invoke("CheckpointFunctionName")
            pack = change_pack(archive, key)
    except PackError as exc:
        raise CliError(str(exc)) from None
    made = pack.zip(clock.iso(), f"policywatch evidence, stack {stack.name}")
    Path(args.output).write_bytes(made)
    roles = [role for role, _ in pack.files.values()]
    out(
        f"{args.output}: {roles.count('version')} version(s), {roles.count('snapshot')} snapshot(s), "
        f"{roles.count('change')} change record(s), {roles.count('manifest')} manifest(s), a signed checkpoint "
        f"({len(made):,} bytes); check it with: policywatch verify {args.output}"
    )


def _change_key(archive: Archive, change: str) -> str:
    """The record key of a change page's address, a record key, or a change id (searched for)."""
    if change.startswith("changes/") and change.endswith(".json"):
        return change
    key = record_key(change)
    if key is not None:
        if archive.head(key) is None:
            raise CliError(f"no change recorded at {change} (the archive has no {key})")
        return key
    if not CHANGE_ID.match(change):
        raise CliError(f"{change!r} is neither a change id, a change page's address nor PLATFORM/DOCUMENT")
    keys = archive.keys("changes/")
    with ThreadPoolExecutor(max_workers=16) as pool:
        for key, data in zip(keys, pool.map(archive.get, keys), strict=True):
            if json.loads(data).get("change_id") == change:
                return key
    raise CliError(f"no change {change} in the archive ({len(keys)} change records searched)")
