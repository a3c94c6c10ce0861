"""The ``policywatch`` operator command: drives a deployed stack through boto3.

It finds the stack's resources from its CloudFormation outputs (``--stack``, default
``policywatch``) at the endpoint boto3 is configured for (``AWS_ENDPOINT_URL`` for MiniStack).
Every error is one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import requests
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

from policywatch.analysis.assess import analyse
from policywatch.catalog import CatalogError, Page, load_packaged, parse_catalog_json
from policywatch.core.settings import settings
from policywatch.fetch.archivist import page_text
from policywatch.fetch.extraction.html import ExtractionError, check_text
from policywatch.fetch.reextract import reextract
from policywatch.fetch.sweep import current_catalog
from policywatch.storage import clients as aws
from policywatch.storage.archive import CATALOG_KEY, Archive
from policywatch.storage.documents import DocumentStates
from policywatch.subscribers import SubscriberError, Subscribers
from policywatch.subscribers.tiers import TierError
from policywatch_cli import subscribers as cli_subscribers
from policywatch_cli.replay import HistoryError, replay
from policywatch_cli.replay import load as load_history


class CliError(Exception):
    """An error to show the operator as one line."""


class Stack:
    """A deployed policywatch stack, known by its outputs."""

    def __init__(self, name: str) -> None:
        self.name = name

    @cached_property
    def outputs(self) -> dict[str, str]:
        try:
            stacks = aws.client("cloudformation").describe_stacks(StackName=self.name)["Stacks"]
        except ClientError as exc:
            if "does not exist" in str(exc):
                where = os.environ.get("AWS_ENDPOINT_URL", "this AWS account")
                raise CliError(
                    f"no stack named {self.name!r} is deployed at {where} (run `make up` for a local one)"
                ) from None
            raise
        return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}

    def output(self, key: str) -> str:
        try:
            return self.outputs[key]
        except KeyError:
            raise CliError(f"stack {self.name!r} has no output {key!r}: is it a policywatch stack?") from None

    def archive(self) -> Archive:
        return Archive(self.output("ArchiveBucketName"))

    def subscribers(self) -> Subscribers:
        return Subscribers(self.output("SubscribersTableName"))

    def invoke(self, output_key: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        response = aws.client("lambda").invoke(
            FunctionName=self.output(output_key), Payload=json.dumps(payload or {}).encode()
        )
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            message = payload.get("errorMessage", payload) if isinstance(payload, dict) else payload
            raise CliError(f"{self.output(output_key)} failed: {message}")
        return payload


# ---------------------------------------------------------------- catalog


def cmd_catalog_check(args: argparse.Namespace, out: Callable[[str], None]) -> None:
    catalog = parse_catalog_json(_read(args.file), args.file) if args.file else load_packaged()
    browser = sum(1 for d in catalog.documents() if d.render == "browser")
    out(
        f"ok: {len(catalog.platforms)} platforms, {len(catalog.documents())} documents ({browser} need a browser renderer)"
    )


def cmd_catalog_show(args: argparse.Namespace, out: Callable[[str], None]) -> None:
    catalog = current_catalog(Stack(args.stack).archive())
    for platform in catalog.platforms:
        out(f"{platform.id}  {platform.name}")
        for doc in platform.documents:
            note = "  [needs a browser]" if doc.render == "browser" else ""
            out(f"    {doc.type}: {doc.pages[0].url}{note}")


def cmd_catalog_use(args: argparse.Namespace, out: Callable[[str], None]) -> None:
    body = _read(args.file)
    catalog = parse_catalog_json(body, args.file)  # refuse to upload an invalid catalog
    archive = Stack(args.stack).archive()
    archive.put(CATALOG_KEY, body.encode(), "application/json", {})
    out(f"catalog override in effect: {len(catalog.platforms)} platforms, {len(catalog.documents())} documents")


def cmd_catalog_reset(args: argparse.Namespace, out: Callable[[str], None]) -> None:
    archive = Stack(args.stack).archive()
    archive.s3.delete_object(Bucket=archive.bucket, Key=CATALOG_KEY)
    out("catalog override removed: the packaged catalog is in effect")


# ---------------------------------------------------------------- pipeline


def cmd_sweep(args: argparse.Namespace, out: Callable[[str], None]) -> None:
    result = Stack(args.stack).invoke("SweepFunctionName")
    out(f"sweep queued {result['documents']} documents of {result['platforms']} platforms")


def cmd_redrive_diff(args: argparse.Namespace, out: Callable[[str], None]) -> None:
    """Run the diff again on the new versions whose diff failed every attempt (the diff DLQ)."""
    stack = Stack(args.stack)
    queue_url = stack.output("DiffDeadLetterQueueUrl")
    sqs = aws.client("sqs")
    redriven = failed = 0
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        if not messages:
            break
        for message in messages:
            try:
                event = json.loads(message["Body"])
                stack.invoke("DiffFunctionName", event)
            except (CliError, json.JSONDecodeError) as exc:
                failed += 1  # left on the queue (visible again after its timeout) for another try
                out(f"still failing: {str(exc).splitlines()[0][:200]}")
                continue
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            redriven += 1
    out(f"redriven {redriven} failed diff(s); {failed} still failing")
    if failed:
        raise CliError(f"{failed} diff(s) still fail: see the diff function's logs")


def cmd_digest(args: argparse.Namespace, out: Callable[[str], None]) -> None:
    payload = {"time": args.at} if args.at else {}
    result = Stack(args.stack).invoke("DigestFunctionName", payload)
    out(
        f"digest of week {result['week']}: {result['changes']} change(s), sent to {result['sent']} subscriber(s)"
        f" ({result['duplicates']} had it already)"
    )


def cmd_status(args: argparse.Namespace, out: Callable[[str], None]) -> None:
    """Every document of the catalog in effect (and any no longer in it), with its fetch health."""
    stack = Stack(args.stack)
    documents = {d.key: d for d in current_catalog(stack.archive()).documents()}
    states = {s.document_key: s for s in DocumentStates(stack.output("DocumentsTableName")).all()}
    rows = []
    for key in sorted(documents.keys() | states.keys()):
        state, document = states.get(key), documents.get(key)
        if state is None:
            health = "needs a browser" if document and document.render == "browser" else "not fetched yet"
        elif document is None:
            health = "no longer in the catalog"
        elif document.render == "browser":
            health = "needs a browser"
        elif state.consecutive_failures:
            health = f"FAILING x{state.consecutive_failures}"
        else:
            health = "ok"
        rows.append(
            {
                "document": key,
                "health": health,
                "last_success": state.last_success_at if state else None,
                "last_change": state.last_change_at if state else None,
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
    out(f"{'DOCUMENT':<42} {'HEALTH':<16} {'LAST SUCCESS':<25} {'LAST CHANGE':<25} LAST ERROR")
    for r in rows:
        error = (r["last_error"] or "")[:100] if r["failures"] else ""
        out(
            f"{r['document']:<42} {r['health']:<16} {r['last_success'] or '-':<25} {r['last_change'] or '-':<25} {error}"
        )


def cmd_reextract(args: argparse.Namespace, out: Callable[[str], None]) -> None:
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
    for document in documents:
        if document.render == "browser":
            continue
        result = reextract(document, archive=archive, states=states, settings=settings())
        counts[result.status] = counts.get(result.status, 0) + 1
        out(f"{result.document_key:<42} {result.status:<11} {result.detail}")
    out(", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing to re-extract")


def cmd_outbox(args: argparse.Namespace, out: Callable[[str], None]) -> None:
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        raise CliError("outbox shows what MiniStack recorded: set AWS_ENDPOINT_URL (source .local/env)")
    emails, sms = outbox(endpoint)
    if args.json:
        out(json.dumps({"emails": emails, "sms": sms}, indent=2, ensure_ascii=False))
        return
    out(f"{len(emails)} email(s)")
    for m in emails:
        out(f"  to {', '.join(m['To'])}: {m['Subject']}")
        if args.full:
            out("    " + m["BodyText"].replace("\n", "\n    "))
    out(f"{len(sms)} SMS")
    for m in sms:
        out(f"  to {m['PhoneNumber']}: {m['Message']}")


def outbox(endpoint: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Emails and SMS that MiniStack recorded, oldest first."""
    base = endpoint.rstrip("/")
    try:
        ses = requests.get(f"{base}/_ministack/ses/messages", timeout=10).json()
        sns = requests.get(f"{base}/_ministack/sns/sms-messages", timeout=10).json()
    except (requests.RequestException, ValueError) as exc:
        raise CliError(f"cannot read MiniStack's outbox at {base}: {exc}") from None
    emails = [m for account in ses.get("messages", {}).values() for m in account]
    sms = [m for records in sns.get("sms_messages", {}).values() for m in records]
    return sorted(emails, key=lambda m: m.get("Timestamp", 0)), sms


# ---------------------------------------------------------------- analysis (no stack needed)


def _version_text(path: str, select: list[str] | None, remove: list[str] | None, url: str | None) -> str:
    """A file as the pipeline sees it: HTML or PDF extracted and checked, Markdown or text as it is."""
    suffix = Path(path).suffix.lower()
    try:
        if suffix in (".html", ".htm", ".pdf"):
            body = _read_bytes(path)
            content_type = "application/pdf" if suffix == ".pdf" else "text/html"
            page = Page(url or Path(path).resolve().as_uri(), tuple(select or ["body"]), tuple(remove or []))
            text = page_text(page, body, content_type, url or "")
        else:
            text = _read(path)
        check_text(text, min_chars=settings().min_text_chars)
    except ExtractionError as exc:
        raise CliError(f"{path}: {exc}") from None
    return text


def cmd_diff(args: argparse.Namespace, out: Callable[[str], None]) -> None:
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


def cmd_replay(args: argparse.Namespace, out: Callable[[str], None]) -> None:
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


# ---------------------------------------------------------------- plumbing


def _read_bytes(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="policywatch", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--stack", default=os.environ.get("POLICYWATCH_STACK", "policywatch"), help="stack name (default: policywatch)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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

    cli_subscribers.register(commands, Stack)

    commands.add_parser("sweep", help="fetch every tracked document now").set_defaults(run=cmd_sweep)
    redrive = commands.add_parser("redrive", help="run again what failed every attempt").add_subparsers(
        dest="what", required=True
    )
    redrive.add_parser("diff", help="the diffs of new versions kept in the diff DLQ").set_defaults(run=cmd_redrive_diff)
    digest = commands.add_parser("digest", help="send the weekly digest of the previous ISO week now")
    digest.add_argument(
        "--at", help="run as if scheduled at this ISO time, e.g. 2026-11-30T08:00:00Z: the week before its Monday"
    )
    digest.set_defaults(run=cmd_digest)
    status = commands.add_parser("status", help="fetch health of every document")
    status.add_argument("--json", action="store_true")
    status.set_defaults(run=cmd_status)
    again = commands.add_parser(
        "reextract", help="rebuild versions from stored snapshots after a declaration or extractor change"
    )
    again.add_argument("--document", action="append", help="a document key, e.g. anthropic/privacy-policy (repeat)")
    again.set_defaults(run=cmd_reextract)
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
    box = commands.add_parser("outbox", help="emails and SMS that MiniStack recorded")
    box.add_argument("--full", action="store_true", help="print the email bodies too")
    box.add_argument("--json", action="store_true")
    box.set_defaults(run=cmd_outbox)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args, print)
        return 0
    except BrokenPipeError:  # `policywatch replay ... | head`
        sys.stderr.close()
        return 0
    except (CliError, CatalogError, SubscriberError, TierError) as exc:
        message = str(exc)
    except EndpointConnectionError as exc:
        message = f"cannot reach AWS at {exc.kwargs.get('endpoint_url', '?')}: is MiniStack running? (make up)"
    except NoCredentialsError:
        message = "no AWS credentials (for the local stack: source .local/env)"
    except ClientError as exc:
        error = exc.response.get("Error", {})
        message = f"AWS refused {exc.operation_name}: {error.get('Code')}: {error.get('Message')}"
    except BotoCoreError as exc:
        message = f"AWS call failed: {exc}"
    first, _, rest = message.partition("\n")
    print(f"policywatch: error: {first}", file=sys.stderr)
    for line in rest.splitlines():  # catalog errors list every problem, one per line
        print(f"  {line}", file=sys.stderr)
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
