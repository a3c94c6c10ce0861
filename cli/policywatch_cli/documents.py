"""`policywatch sweep|status|reextract|accept`: fetch the tracked documents, their fetch health,
rebuild their versions, accept a collapsed text as a document's new size."""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from policywatch.catalog import Document
from policywatch.fetch.reextract import reextract
from policywatch.fetch.settings import ArchivistSettings
from policywatch.fetch.sweep import current_catalog
from policywatch.storage.archive import Archive, parse_key
from policywatch.storage.documents import DocumentState, DocumentStates
from policywatch_cli.stack import CliError, Commands, Out, Stack


def register(commands: Commands) -> None:
    commands.add_parser("sweep", help="fetch every tracked document now").set_defaults(run=cmd_sweep)
    status = commands.add_parser("status", help="fetch health of every document")
    status.add_argument("--json", action="store_true")
    status.set_defaults(run=cmd_status)
    again = commands.add_parser(
        "reextract", help="rebuild versions from stored snapshots after a declaration or extractor change"
    )
    again.add_argument("--document", action="append", help="a document key, e.g. anthropic/privacy-policy (repeat)")
    again.set_defaults(run=cmd_reextract)
    accept = commands.add_parser(
        "accept", help="take a document's next text as it is: collapsed (a shorter page) or with an error notice"
    )
    accept.add_argument("document", help="a document key, e.g. mistral/developer-terms")
    accept.set_defaults(run=cmd_accept)


def cmd_sweep(args: argparse.Namespace, out: Out) -> None:
    result = Stack(args.stack).invoke("SweepFunctionName")
    out(f"sweep queued {result['documents']} documents of {result['platforms']} platforms")


def cmd_status(args: argparse.Namespace, out: Out) -> None:
    """Every document of the catalog in effect (and any no longer in it), with its fetch health."""
    stack = Stack(args.stack)
    archive = stack.archive()
    documents = {d.key: d for d in current_catalog(archive).documents()}
    states = {s.document_key: s for s in DocumentStates(stack.output("DocumentsTableName")).all()}
    change_ids = _last_change_ids(archive, list(states.values()))
    rows: list[dict[str, Any]] = []
    for key in sorted(documents.keys() | states.keys()):
        state, document = states.get(key), documents.get(key)
        if state is None:
            health = "not fetched yet"
        elif document is None:
            health = "no longer in the catalog"
        elif state.consecutive_failures:
            health = f"FAILING x{state.consecutive_failures}"
        else:
            health = "ok"
        rows.append(
            {
                "document": key,
                "fetched_by": _fetched_by(document),
                "health": health,
                "last_success": state.last_success_at if state else None,
                "last_change": state.last_change_at if state else None,
                "last_change_id": change_ids.get(key),
                "failures": state.consecutive_failures if state else 0,
                "last_error": state.last_error if state else None,
                "url": " ".join(p.url for p in document.pages) if document else None,
            }
        )
    if args.json:
        out(json.dumps(rows, indent=2))
        return
    failing = sum(1 for r in rows if r["health"].startswith("FAILING"))
    out(f"{len(rows)} documents, {failing} failing")
    out(
        f"{'DOCUMENT':<42} {'FETCHED BY':<11} {'HEALTH':<16} {'LAST SUCCESS':<25} {'LAST CHANGE':<25} "
        f"{'CHANGE ID':<24} LAST ERROR"
    )
    for r in rows:
        error = (r["last_error"] or "")[:100] if r["failures"] else ""
        out(
            f"{r['document']:<42} {r['fetched_by']:<11} {r['health']:<16} {r['last_success'] or '-':<25} "
            f"{r['last_change'] or '-':<25} {r['last_change_id'] or '-':<24} {error}"
        )


def _last_change_ids(archive: Archive, states: list[DocumentState]) -> dict[str, str]:
    """Each document's last change id (``policywatch deliveries`` takes it), from the change record of
    its last version: none for a first version, or while its diff has not run."""

    def change_id(state: DocumentState) -> tuple[str, str | None]:
        if not state.last_version_key:
            return state.document_key, None
        _, platform, document, stamp = parse_key(state.last_version_key)
        raw = archive.get_optional(f"changes/{platform}/{document}/{stamp}.json")
        return state.document_key, json.loads(raw).get("change_id") if raw else None

    with ThreadPoolExecutor(max_workers=16) as pool:  # one read per document: 150 in a row take seconds
        return {key: found for key, found in pool.map(change_id, states) if found}


def _fetched_by(document: Document | None) -> str:
    """How the pipeline gets the document: plain HTTP, or headless Chromium (the render function)."""
    if document is None:
        return "-"
    return "browser" if document.render == "browser" else "http"


def cmd_reextract(args: argparse.Namespace, out: Out) -> None:
    stack = Stack(args.stack)
    archive = stack.archive()
    catalog = current_catalog(archive)
    documents = catalog.documents()
    if args.document:
        known = {d.key: d for d in documents}
        unknown = [k for k in args.document if k not in known]
        if unknown:
            raise CliError(
                f"not in the catalog in effect: {', '.join(unknown)} (keys look like anthropic/privacy-policy)"
            )
        documents = [known[k] for k in args.document]
    states = DocumentStates(stack.output("DocumentsTableName"))
    counts: dict[str, int] = {}
    for document in documents:  # a rendered page's snapshot is its rendered DOM: re-extracted alike
        result = reextract(document, archive=archive, states=states, settings=ArchivistSettings.from_env())
        counts[result.status] = counts.get(result.status, 0) + 1
        out(f"{result.document_key:<42} {result.status:<11} {result.detail}")
    out(", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing to re-extract")


def cmd_accept(args: argparse.Namespace, out: Out) -> None:
    """The next fetch of the document archives its text even if it collapsed against the last
    version (the archivist does so on its own after ``COLLAPSE_ACCEPT_AFTER`` sweeps in a row)
    or carries an error notice the last version did not (a notice the site now always shows)."""
    stack = Stack(args.stack)
    states = DocumentStates(stack.output("DocumentsTableName"))
    state = states.get(args.document)
    if state.fingerprint is None and not state.consecutive_failures:
        raise CliError(f"{args.document}: no such document has been fetched (`policywatch status` lists them)")
    state.accept_next = True
    states.put(state)
    refused = f" (last refused: {state.last_error})" if state.last_error else ""
    out(f"{args.document}: the next fetch takes its text as it is{refused}; `policywatch sweep` fetches now")
