"""Fault injection on the local stack: ``python -m devstack.chaos`` (``make chaos``), docs/chaos.md.

The deployed stack on a MiniStack of its own (free port, temporary state), stopped or crashed in the
middle of a sweep, of a diff and of a fan-out to 1,000 subscribers, restarted from its persisted
state and driven to completion; then counted from outside: versions in the archive, change records
and change events, and every delivery in MiniStack's outbox, at the webhook receiver and in the
deliveries table. Each scenario prints a table of counts expected and found; any loss or duplicate
makes the exit status 1.

Two faults, where MiniStack keeps what AWS would keep (docs/chaos.md says what it loses otherwise):

- ``stop``: the whole stack stops at once: every Lambda worker is frozen (SIGSTOP), the outbox is
  read (MiniStack does not persist the e-mails it recorded), the workers are killed (SIGKILL) and
  MiniStack is stopped gracefully, which saves its state; then it starts again from that state.
- ``kill``: the stage's own Lambda workers are killed (SIGKILL) mid-invocation, as a crash, a
  timeout or an out-of-memory would end them; MiniStack goes on. Messages the dead invocation
  held stay in flight for their queue's visibility timeout (720 s), which the harness does not
  wait for: it restarts the stack as for ``stop``, and ends the visibility of what was in flight.

The harness moves the clock on where AWS would make it wait, and says so in its output: messages
in flight at a restart are made visible again (ChangeMessageVisibility 0 with the receipt handle
MiniStack saved: the visibility timeout has run out), S3 events of versions written since the
scenario began are run again through the diff DLQ and ``policywatch redrive diff`` (MiniStack drops
asynchronous invocations in flight at a stop, which AWS retries), and deliveries still unsettled
once everything has stopped moving get their lease ended (``overdue_at`` moved to the past) before
the reconciler is invoked, as its schedule would 15 minutes later.

Everything is driven from outside, as an operator would: the ``policywatch`` command, boto3 on the
MiniStack endpoint, MiniStack's outbox, a webhook receiver on loopback. Linux only (/proc).

Policy texts: Open Terms Archive GenAI collection, ODC-By 1.0 (read from ../shared/corpus, not
copied into this repository).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import functools
import http.server
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack.ministack import ROOT, VENV_BIN, MiniStack, StackError, build, chromium_path, deploy, free_port
from devstack.ministack import verify_sender as check_sender
from devstack.outbox import outbox

STACK = "policywatch-chaos"
SENDER = "alerts@policywatch.test"
BUILD_DIR = ROOT / ".aws-sam" / "chaos" / "build"
CORPUS = ROOT.parent / "shared" / "corpus" / "snapshots"
FAULTS = ("stop", "kill")
SCENARIOS = ("sweep", "diff", "fanout")
# The queues work waits on (a stack from before the fan-out queue has no FanOutQueueUrl).
WORK_QUEUES = ("FetchQueueUrl", "RenderQueueUrl", "NotifyQueueUrl", "FanOutQueueUrl", "DeliveryQueueUrl")
UNSETTLED = ("queued", "sending", "retrying")
SITE_DELAY_SECONDS = 1.0  # each page answers after this long, as a real site does: the sweep lasts
# Every alert's text names its change (devstack.outbox reads it too); MIME text may end its lines with CRLF.
CHANGE_ID_LINE = re.compile(r"^Change id: +(\S+)", re.MULTILINE)
ADDRESS = re.compile(r"[\w.+-]+@[\w.-]+")
FANOUT_FAULT_SHARE = 0.25  # the fan-out is stopped once this share of its deliveries is out


@dataclass(frozen=True)
class Document:
    """A tracked document served by the local site: one corpus page per edition, oldest first."""

    platform: str
    name: str
    operator: str
    editions: tuple[str, ...]  # corpus files under ../shared/corpus/snapshots

    @property
    def path(self) -> str:
        return f"{self.platform}/policy.html"


# Several real documents (Open Terms Archive GenAI collection, ODC-By 1.0), all served as plain HTML.
# Claude's privacy policy has two more editions: 2025-08-29 (model training on chats became
# opt-out) and 2026-08-22, two real, alerting changes.
DOCUMENTS = (
    Document(
        "anthropic",
        "Anthropic (Claude)",
        "Anthropic PBC",
        (
            "claude-ai/privacy-policy/2025-08-28.html",
            "claude-ai/privacy-policy/2025-08-29.html",
            "claude-ai/privacy-policy/2026-08-22.html",
        ),
    ),
    Document("openai", "OpenAI (ChatGPT)", "OpenAI OpCo, LLC", ("chatgpt/privacy-policy/2025-07-31.html",)),
    Document("midjourney", "Midjourney", "Midjourney, Inc.", ("midjourney/privacy-policy/2026-08-22.html",)),
    Document("perplexity", "Perplexity", "Perplexity AI, Inc.", ("perplexity/privacy-policy/2025-09-24.html",)),
    Document("deepseek", "DeepSeek", "Hangzhou DeepSeek AI", ("deepseek/privacy-policy/2026-02-10.html",)),
    Document(
        "microsoft",
        "Microsoft (Copilot)",
        "Microsoft Corporation",
        ("microsoft-copilot/privacy-policy/2026-08-22.html",),
    ),
    Document(
        "google",
        "Google (Gemini)",
        "Google LLC",
        ("google-generative-ai-services/terms-of-service/2026-08-22.html",),
    ),
)
ALERTED = "anthropic"  # the platform whose changes the diff and fan-out scenarios follow


class ChaosError(Exception):
    """The harness could not do what a scenario needs: one line saying what and where to look."""


# ---------------------------------------------------------------- reports


@dataclass
class Row:
    """One count: what should be there, what is, and what went wrong."""

    label: str
    expected: int
    found: int
    duplicates: int = 0
    missing: int = 0
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.duplicates == 0 and self.missing == 0


@dataclass
class Report:
    scenario: str
    fault: str
    rows: list[Row] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)  # what the harness did, in order (the clock it moved on)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the counts allow but a reader should know
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and all(row.ok for row in self.rows)

    def table(self) -> str:
        width = max([len(r.label) for r in self.rows] + [10])
        lines = [f"== {self.scenario}, fault: {self.fault} ({self.seconds:.0f} s) {'OK' if self.ok else 'FAILED'}"]
        lines += [f"   - {step}" for step in self.steps]
        lines.append(f"   {'':<{width}}  {'expected':>8}  {'found':>6}  {'duplicates':>10}  {'missing':>7}")
        for r in self.rows:
            flag = "" if r.ok else "  <-- "
            lines.append(
                f"   {r.label:<{width}}  {r.expected:>8}  {r.found:>6}  {r.duplicates:>10}  {r.missing:>7}"
                f"{flag}{'  ' + r.note if r.note else ''}"
            )
        lines += [f"   NOTE: {n}" for n in self.notes]
        lines += [f"   PROBLEM: {p}" for p in self.problems]
        return "\n".join(lines)


# ---------------------------------------------------------------- the site and the receiver


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


class PolicySite:
    """The documents' pages on loopback, each answering after ``delay`` seconds; editions swapped in place."""

    def __init__(self, root: Path, delay: float = SITE_DELAY_SECONDS) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

        class Slow(_Quiet):
            def do_GET(self) -> None:
                time.sleep(delay)
                super().do_GET()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Slow, directory=str(root)))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, document: Document) -> str:
        return f"http://127.0.0.1:{self.port}/{document.path}"

    def publish(self, document: Document, edition: int) -> str:
        source = CORPUS / document.editions[edition]
        if not source.exists():
            raise ChaosError(f"corpus page {source} is missing: is ../shared beside the project?")
        target = self.root / document.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return document.editions[edition]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Receiver:
    """Subscribers' webhook endpoints (``/hooks/<n>``) on loopback: every call kept, answered 204."""

    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []
        lock = threading.Lock()
        calls = self.calls

        class Hook(_Quiet):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    change_id = str(json.loads(body)["data"]["change_id"])
                except (ValueError, KeyError, TypeError):
                    change_id = "?"
                with lock:
                    calls.append(
                        {"path": self.path, "webhook_id": self.headers.get("webhook-id", ""), "change_id": change_id}
                    )
                self.send_response(204)
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{n:04d}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------- processes


def _processes() -> dict[int, tuple[int, str, int]]:
    """Every process: pid -> (parent pid, state letter, CPU ticks)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        found[int(entry)] = (int(fields[1]), fields[0], int(fields[11]) + int(fields[12]))
    return found


def _descendants(root: int) -> list[int]:
    """The live (not zombie) processes below ``root``."""
    table = _processes()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            todo.append(child)
            if table[child][1] not in "ZX":
                found.append(child)
    return found


def _function_of(pid: int) -> str | None:
    """The Lambda function a MiniStack worker process runs (its AWS_LAMBDA_FUNCTION_NAME)."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    for entry in environ:
        if entry.startswith(b"AWS_LAMBDA_FUNCTION_NAME="):
            return entry.split(b"=", 1)[1].decode()
    return None


def _signal(pids: Sequence[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


# ---------------------------------------------------------------- the stack under test


@dataclass(frozen=True)
class Member:
    """One subscriber of the fan-out's population and the deliveries it is owed."""

    n: int
    kind: str  # free | watcher | watcher-sms | professional | professional-hook

    @property
    def email(self) -> str:
        return f"chaos-{self.n:04d}@example.com"

    @property
    def phone(self) -> str | None:
        return f"+1415555{self.n:04d}" if self.kind in ("watcher-sms", "professional") else None

    @property
    def webhook(self) -> bool:
        return self.kind in ("professional", "professional-hook")

    @property
    def tier(self) -> str:
        return {"free": "free", "watcher": "watcher", "watcher-sms": "watcher"}.get(self.kind, "professional")

    def channels(self) -> list[str]:
        """Same-day deliveries of a high-severity change: the free tier waits for the weekly digest."""
        if self.kind == "free":
            return []
        return ["email"] + (["sms"] if self.phone else []) + (["webhook"] if self.webhook else [])


# A realistic mix, repeated every 20: most people on the free tier (the weekly digest, no same-day
# alert), Watchers by e-mail and some by SMS (a phone the operator verified), Professionals with a
# webhook to their own receiver, most with a phone too.
MIX = ("free",) * 8 + ("watcher",) * 5 + ("watcher-sms",) * 4 + ("professional",) * 2 + ("professional-hook",)


def population(size: int) -> list[Member]:
    return [Member(n, MIX[n % len(MIX)]) for n in range(size)]


class Lab:
    """One MiniStack with the stack deployed, the policy site and a webhook receiver; all observation from outside."""

    def __init__(self, workdir: Path, say: Callable[[str], None] = print) -> None:
        self.workdir = workdir
        self.say = say
        self.ministack = MiniStack(free_port(), workdir / "ministack")
        self.env = self.ministack.env()
        self.site = PolicySite(workdir / "site")
        self.receiver = Receiver()
        self.outputs: dict[str, str] = {}
        self.emails: dict[str, dict[str, Any]] = {}  # every e-mail MiniStack recorded, by message id, across restarts
        self.texts: dict[str, dict[str, Any]] = {}  # every SMS, likewise
        self.events_url = ""
        self.events: list[dict[str, Any]] = []  # change events published on the change topic
        self.subscriber_ids: dict[str, int] = {}  # subscriber id -> member number
        self.members: list[Member] = []  # every subscriber added, all watching ALERTED
        self.published: dict[str, list[int]] = {}  # editions each document's page has shown, in order
        self._functions: dict[str, str] = {}

    # -------------------------------------------------------- up and down

    def up(self) -> None:
        started = time.monotonic()
        self.ministack.start()
        build_dir = build(self.env, BUILD_DIR)
        parameters = {
            "SenderEmail": SENDER,
            "SchedulesState": "DISABLED",  # the harness runs the sweep and the reconciler as their schedules would
            "WebhookHttpAllowlist": f"127.0.0.1:{self.receiver.port}",
            "FetchAllowlist": f"127.0.0.1:{self.site.port}",
            "ArchiveRequiresTls": "false",  # MiniStack's Lambdas reach it over plain http
            "DeliveryBackoffSeconds": "1",
            "PublicBaseUrl": "http://127.0.0.1:8767",
        }
        with contextlib.suppress(StackError):  # no document here needs a browser
            parameters["ChromiumPath"] = chromium_path()
        self.outputs = deploy(self.env, STACK, build_dir, parameters)
        check_sender(self.env, SENDER)
        self.events_url = self._watch_change_topic()
        catalog = self.workdir / "catalog.json"
        catalog.write_text(json.dumps(self.catalog(), indent=2))
        self.cli("catalog", "use", str(catalog))
        self.say(f"stack {STACK} deployed on MiniStack {self.ministack.endpoint} in {time.monotonic() - started:.0f} s")

    def down(self) -> None:
        self.ministack.stop()
        self.site.close()
        self.receiver.close()
        # A killed worker leaves its code folder behind (MiniStack removes it only for workers it ends itself).
        for folder in Path(tempfile.gettempdir()).glob(f"ministack-lambda-{STACK}-*"):
            shutil.rmtree(folder, ignore_errors=True)

    def catalog(self) -> dict[str, Any]:
        """The catalog override: every document on the local site, its selectors as the corpus records them."""
        index = {e["file"]: e for e in json.loads((CORPUS / "index.json").read_text())}
        platforms = []
        for document in DOCUMENTS:
            entry = index[f"snapshots/{document.editions[0]}"]
            page = {"url": self.site.url(document), "select": entry["select"]}
            if entry.get("remove"):
                page["remove"] = entry["remove"]
            platforms.append(
                {
                    "id": document.platform,
                    "name": document.name,
                    "operator": document.operator,
                    "documents": [{"type": entry["document_type"], "pages": [page]}],
                }
            )
        return {"platforms": platforms}

    # -------------------------------------------------------- driving it

    def publish(self, document: Document, edition: int) -> str:
        shown = self.published.setdefault(document.platform, [])
        if not shown or shown[-1] != edition:
            shown.append(edition)
        return self.site.publish(document, edition)

    def baseline(self) -> None:
        """Every document's first edition archived, without a fault (for a round that skips the sweep)."""
        for document in DOCUMENTS:
            self.publish(document, 0)
        self.cli("sweep")
        self.wait("the first versions", lambda: all(self.versions().values()), 180, interval=1)
        self.settle("the first sweep")

    def client(self, service: str) -> Any:
        import boto3

        make: Any = boto3.client  # any service by name (the stubs type each name apart)
        return make(
            service,
            endpoint_url=self.ministack.endpoint,
            region_name=self.env["AWS_REGION"],
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
        )

    def cli(self, *args: str, timeout: float = 120) -> str:
        """``policywatch --stack STACK ARGS``; its output, or a ChaosError with its error line."""
        try:
            result = subprocess.run(  # noqa: S603
                [str(VENV_BIN / "policywatch"), "--stack", STACK, *args],
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise ChaosError(f"policywatch {' '.join(args[:2])} took more than {timeout:.0f} s") from None
        if result.returncode != 0:
            raise ChaosError(f"policywatch {' '.join(args[:2])} failed: {result.stderr.strip()[:300]}")
        return result.stdout

    def cli_batch(self, argvs: list[list[str]], timeout: float = 600) -> list[dict[str, Any]]:
        """Many ``policywatch`` commands in one process (a thousand ``subscribers add`` in seconds, not minutes)."""
        try:
            result = subprocess.run(  # noqa: S603
                [sys.executable, "-m", "devstack.chaos", "--cli-batch"],
                input=json.dumps([["--stack", STACK, *argv] for argv in argvs]),
                cwd=ROOT,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise ChaosError(f"{len(argvs)} policywatch commands took more than {timeout:.0f} s") from None
        if result.returncode != 0:
            raise ChaosError(f"the policywatch batch failed: {result.stderr.strip()[-300:]}")
        answers: list[dict[str, Any]] = json.loads(result.stdout)
        failed = [a for a in answers if a["rc"] != 0]
        if failed:
            raise ChaosError(f"{len(failed)} of {len(argvs)} policywatch commands failed: {failed[0]['err'].strip()}")
        return answers

    def function_name(self, logical_id: str) -> str:
        """A function's physical name, from the stack's resources (as an operator finds it)."""
        if logical_id not in self._functions:
            resource = self.client("cloudformation").describe_stack_resource(
                StackName=STACK, LogicalResourceId=logical_id
            )
            self._functions[logical_id] = resource["StackResourceDetail"]["PhysicalResourceId"]
        return self._functions[logical_id]

    def invoke(self, output_key: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.client("lambda").invoke(
            FunctionName=self.outputs[output_key], Payload=json.dumps(payload or {}).encode()
        )
        body = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            raise ChaosError(f"{self.outputs[output_key]} failed: {str(body)[:300]}")
        return body if isinstance(body, dict) else {}

    # -------------------------------------------------------- observing it

    def keys(self, prefix: str) -> list[str]:
        s3, bucket = self.client("s3"), self.outputs["ArchiveBucketName"]
        found: list[str] = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            found += [o["Key"] for o in page.get("Contents", [])]
        return sorted(found)

    def object(self, key: str) -> bytes:
        body: bytes = self.client("s3").get_object(Bucket=self.outputs["ArchiveBucketName"], Key=key)["Body"].read()
        return body

    def versions(self) -> dict[str, list[str]]:
        """Every version key in the archive, by platform."""
        found: dict[str, list[str]] = {d.platform: [] for d in DOCUMENTS}
        for key in self.keys("versions/"):
            found.setdefault(key.split("/")[1], []).append(key)
        return found

    def queue_depths(self) -> dict[str, tuple[int, int]]:
        """(visible or delayed, in flight) messages of each work queue."""
        sqs, depths = self.client("sqs"), {}
        for key in WORK_QUEUES:
            if key not in self.outputs:
                continue
            attributes = sqs.get_queue_attributes(QueueUrl=self.outputs[key], AttributeNames=["All"])["Attributes"]
            waiting = int(attributes["ApproximateNumberOfMessages"]) + int(
                attributes.get("ApproximateNumberOfMessagesDelayed", 0)
            )
            depths[key.removesuffix("Url")] = (waiting, int(attributes["ApproximateNumberOfMessagesNotVisible"]))
        return depths

    def record_outbox(self) -> tuple[int, int]:
        """Add what MiniStack's outbox holds now to what was seen before (its e-mails do not survive a restart)."""
        emails, texts = outbox(self.ministack.endpoint)
        for m in emails:
            self.emails.setdefault(m["MessageId"], m)
        for m in texts:
            self.texts.setdefault(m["MessageId"], m)
        return len(self.emails), len(self.texts)

    def change_events(self) -> list[dict[str, Any]]:
        """Change events the topic published (raw deliveries to the harness's own queue), all so far."""
        sqs = self.client("sqs")
        while batch := sqs.receive_message(QueueUrl=self.events_url, MaxNumberOfMessages=10).get("Messages", []):
            for m in batch:
                self.events.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=self.events_url, ReceiptHandle=m["ReceiptHandle"])
        return self.events

    def deliveries(self, change_id: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """``policywatch deliveries CHANGE --json``: the records, and the fan-out's ledger where it shows one."""
        shown = json.loads(self.cli("deliveries", change_id, "--json"))
        if isinstance(shown, list):  # before fan-outs had a ledger
            return shown, None
        return list(shown.get("deliveries") or []), shown.get("fan_out")

    def wait(self, what: str, check: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(interval)
        raise ChaosError(f"timed out after {timeout:.0f} s waiting for {what}; {self.diagnosis()}")

    def diagnosis(self) -> str:
        """Where things stand, in one line: the work queues, and the last error a function logged."""
        try:
            depths = {q: d for q, d in self.queue_depths().items() if any(d)}
        except Exception as exc:  # MiniStack itself is down: say so rather than hide the first error
            return f"MiniStack does not answer ({type(exc).__name__}); see {self.ministack.log_file}"
        last = ""
        with contextlib.suppress(OSError):
            lines = self.ministack.log_file.read_text(errors="replace").splitlines()
            errors = [line for line in lines if re.match(r"\w*(Error|Exception): ", line) or " ERROR " in line]
            last = errors[-1][:240] if errors else ""
        queues = ", ".join(f"{q} {w} waiting/{f} in flight" for q, (w, f) in depths.items()) or "work queues empty"
        return f"{queues}; last error in {self.ministack.log_file}: {last or 'none'}"

    def settle(self, what: str, timeout: float = 240, *, in_flight_ok: bool = False) -> None:
        """Wait until nothing moves: no message waiting on a work queue (none in flight either, unless
        ``in_flight_ok``: held by a dead invocation), and the archive, the outbox and the receiver unchanged."""
        last: tuple[Any, ...] | None = None
        calm = 0

        def quiet() -> bool:
            nonlocal last, calm
            depths = self.queue_depths()
            busy = any(waiting or (inflight and not in_flight_ok) for waiting, inflight in depths.values())
            seen = (
                len(self.keys("versions/")),
                len(self.keys("changes/")),
                self.record_outbox(),
                len(self.receiver.calls),
            )
            calm = calm + 1 if (not busy and seen == last) else 0
            last = seen
            return calm >= 3

        self.wait(what, quiet, timeout, interval=1.0)

    # -------------------------------------------------------- faults

    def worker_pids(self, logical_id: str | None = None) -> list[int]:
        """MiniStack's Lambda worker processes (of one function, or all)."""
        root = int(self.ministack.pid_file.read_text())
        pids = _descendants(root)
        if logical_id is None:
            return pids
        name = self.function_name(logical_id)
        return [p for p in pids if _function_of(p) == name]

    def worker_cpu(self) -> int:
        """CPU ticks used by every Lambda worker alive now."""
        table = _processes()
        return sum(table[p][2] for p in self.worker_pids() if p in table)

    def busy_workers(self, logical_id: str, timeout: float) -> list[int]:
        """The function's workers using the CPU now (an invocation under way); waits up to ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.worker_pids(logical_id)
            before = {p: _processes().get(p, (0, "", 0))[2] for p in pids}
            time.sleep(0.05)
            after = _processes()
            busy = [p for p in pids if p in after and after[p][2] > before[p]]
            if busy:
                return busy
        return []

    def kill(self, logical_id: str) -> int:
        """SIGKILL the function's workers (an invocation dies as in a crash); MiniStack goes on. Returns how many."""
        pids = self.worker_pids(logical_id)
        _signal(pids, signal.SIGKILL)
        return len(pids)

    def freeze(self) -> list[int]:
        """SIGSTOP every Lambda worker, until no new one appears; then the outbox is what went out."""
        frozen: list[int] = []
        for _ in range(30):
            fresh = [p for p in self.worker_pids() if p not in frozen]
            if not fresh and frozen:
                time.sleep(0.5)  # requests the workers had already made finish in MiniStack
                self.record_outbox()
                if not [p for p in self.worker_pids() if p not in frozen]:
                    return frozen
                continue
            _signal(fresh, signal.SIGSTOP)
            frozen += fresh
            if not fresh:  # no worker at all
                self.record_outbox()
                return frozen
            time.sleep(0.2)
        raise ChaosError("new Lambda workers kept appearing while freezing MiniStack's workers")

    def restart(self) -> list[str]:
        """Stop the whole stack at once and start it again from its persisted state; returns what was done."""
        frozen = self.freeze()
        _signal(frozen, signal.SIGKILL)
        began = time.monotonic()
        self.ministack.stop()
        in_flight = self._in_flight()
        self.ministack.start()
        sqs, ended = self.client("sqs"), 0
        for queue, handle in in_flight:
            with contextlib.suppress(sqs.exceptions.ClientError):
                sqs.change_message_visibility(
                    QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"], ReceiptHandle=handle, VisibilityTimeout=0
                )
                ended += 1
        return [
            f"stopped the stack ({len(frozen)} Lambda worker(s) frozen, outbox read, workers killed, MiniStack "
            f"stopped and started again from its saved state in {time.monotonic() - began:.0f} s)",
            f"{ended} message(s) in flight at the stop made visible again (their visibility timeout, skipped)",
        ]

    def _in_flight(self) -> list[tuple[str, str]]:
        """(queue name, receipt handle) of each message in flight, from the state MiniStack saved at its stop."""
        path = self.ministack.state_dir / "state" / "sqs.json"
        try:
            saved = json.loads(path.read_text())
            queues = saved["payload"]["queues"]["data"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ChaosError(f"cannot read the SQS state MiniStack saved ({path}): {exc!r}") from None
        now, found = time.time(), []
        for scoped, queue in queues.items():
            name = queue.get("name") or ast.literal_eval(scoped.split("\x00")[-1]).rsplit("/", 1)[-1]
            for m in queue.get("messages", []):
                if m.get("receipt_handle") and m.get("visible_at", 0) > now:
                    found.append((name, m["receipt_handle"]))
        return found

    def fault(self, kind: str, logical_id: str) -> list[str]:
        """Inject ``kind`` now; returns what was done. ``kill`` then lets the rest run, and restarts only if
        messages are left in flight (held by the dead invocation until their visibility timeout)."""
        if kind == "stop":
            return self.restart()
        if kind != "kill":
            raise ChaosError(f"unknown fault {kind!r}: one of {', '.join(FAULTS)}")
        killed = self.kill(logical_id)
        steps = [f"killed {killed} {logical_id} worker(s) (SIGKILL, mid-invocation); MiniStack went on"]
        self.settle("the stack to go on after the kill", in_flight_ok=True)
        own = self.event_queues(logical_id)
        in_flight = {q: n for q, (_, n) in self.queue_depths().items() if n}
        held = {q: n for q, n in in_flight.items() if q in own}
        if other := {q: n for q, n in in_flight.items() if q not in own}:
            steps.append(
                f"in flight on queues {logical_id} does not read (a failed invocation's, not the kill's): {other}"
            )
        if held:
            steps.append(f"messages held by the dead invocation(s) until their visibility timeout: {held}")
            steps += self.restart()
        return steps

    def event_queues(self, logical_id: str) -> set[str]:
        """The work queues (as in ``queue_depths``) the function reads through event source mappings."""
        sqs, arns = self.client("sqs"), set()
        for page in (
            self.client("lambda")
            .get_paginator("list_event_source_mappings")
            .paginate(FunctionName=self.function_name(logical_id))
        ):
            arns |= {m["EventSourceArn"] for m in page["EventSourceMappings"]}
        own = set()
        for key in WORK_QUEUES:
            if key in self.outputs:
                arn = sqs.get_queue_attributes(QueueUrl=self.outputs[key], AttributeNames=["QueueArn"])
                if arn["Attributes"]["QueueArn"] in arns:
                    own.add(key.removesuffix("Url"))
        return own

    def redrive_diffs(self, since: set[str]) -> str:
        """S3 events of the versions written since ``since`` (every key before), run again through the diff DLQ
        and ``policywatch redrive diff``: MiniStack drops asynchronous invocations in flight at a stop (AWS
        retries them); a diff already recorded is not done again."""
        sqs, bucket = self.client("sqs"), self.outputs["ArchiveBucketName"]
        fresh = [k for k in self.keys("versions/") if k not in since]
        for key in fresh:
            event = {
                "Records": [
                    {
                        "eventSource": "aws:s3",
                        "eventName": "ObjectCreated:Put",
                        "s3": {"bucket": {"name": bucket}, "object": {"key": key}},
                    }
                ]
            }
            sqs.send_message(QueueUrl=self.outputs["DiffDeadLetterQueueUrl"], MessageBody=json.dumps(event))
        if not fresh:
            return "no version written since the scenario began: no S3 event to run again"
        done = self.cli("redrive", "diff", timeout=300).strip()
        return f"S3 events of {len(fresh)} version(s) written since the scenario began run again: {done}"

    def reconcile(self, change_id: str, rounds: int = 4) -> list[str]:
        """Drive the change's deliveries to a settled state: wait for the queues, end the lease of what is
        still unsettled (nothing is moving: whoever held it is dead), invoke the reconciler, again."""
        steps: list[str] = []
        ddb, table = self.client("dynamodb"), self.outputs["DeliveriesTableName"]
        for _ in range(rounds):
            self.settle("the deliveries to settle")
            records, _ = self.deliveries(change_id)
            stuck = [r for r in records if r.get("status") in UNSETTLED]
            if not stuck:
                return steps
            past = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
            for r in stuck:
                with contextlib.suppress(ddb.exceptions.ConditionalCheckFailedException):
                    ddb.update_item(
                        TableName=table,
                        Key={"change_id": {"S": r["change_id"]}, "recipient": {"S": r["recipient"]}},
                        UpdateExpression="SET overdue_at = :past",
                        ConditionExpression="#s = :status AND overdue_at = :seen",
                        ExpressionAttributeNames={"#s": "status"},
                        ExpressionAttributeValues={
                            ":past": {"S": past},
                            ":status": {"S": r["status"]},
                            ":seen": {"S": r.get("overdue_at", "")},
                        },
                    )
            statuses = Counter(r["status"] for r in stuck)
            run = self.invoke("ReconcileFunctionName")
            steps.append(
                f"{len(stuck)} deliveries left unsettled ({dict(statuses)}): lease ended (as 15 minutes later), "
                f"reconciler invoked: { ({k: v for k, v in run.items() if v and k != 'by_status'}) }"
            )
        raise ChaosError(f"deliveries of {change_id} still unsettled after {rounds} reconciler runs")

    # -------------------------------------------------------- set-up steps

    def _watch_change_topic(self) -> str:
        """An SQS queue of the harness's own subscribed to the change topic (raw delivery): the change events."""
        sqs, sns = self.client("sqs"), self.client("sns")
        url = sqs.create_queue(QueueName="chaos-change-events")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        topic = self.outputs["ChangeTopicArn"]
        statement = {
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
        }
        policy = {"Version": "2012-10-17", "Statement": [statement]}
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
        return url

    def subscribe(self, members: list[Member], platform: str) -> None:
        """Add the population with ``policywatch subscribers add --active``, as an operator's import would."""
        argvs = []
        for m in members:
            argv = ["subscribers", "add", "--email", m.email, "--tier", m.tier, "--platform", platform, "--active"]
            if m.phone:
                argv += ["--phone", m.phone]
            if m.webhook:
                argv += ["--webhook", self.receiver.url(m.n)]
            argvs.append(argv)
        for member, answer in zip(members, self.cli_batch(argvs), strict=True):
            found = re.search(r"^added (\S+)", answer["out"], re.MULTILINE)
            if not found:
                raise ChaosError(f"policywatch subscribers add said no id for {member.email}: {answer['out'][:200]}")
            self.subscriber_ids[found.group(1)] = member.n
            self.members.append(member)


# ---------------------------------------------------------------- scenarios


def _timed(scenario: Callable[..., Report]) -> Callable[..., Report]:
    @functools.wraps(scenario)
    def run(*args: Any, **kwargs: Any) -> Report:
        began = time.monotonic()
        report = scenario(*args, **kwargs)
        report.seconds = time.monotonic() - began
        return report

    return run


@_timed
def sweep_scenario(lab: Lab, fault: str) -> Report:
    """A sweep of every document's first edition, stopped while fetches are writing versions."""
    report = Report("mid-sweep", fault)
    for document in DOCUMENTS:
        lab.publish(document, 0)
    before = set(lab.keys("versions/"))
    total = len(DOCUMENTS)
    report.steps.append(lab.cli("sweep").strip() + f" (pages answer after {SITE_DELAY_SECONDS:.0f} s each)")

    def written() -> int:
        return len([k for k in lab.keys("versions/") if k not in before])

    at = lab.wait("the sweep's first version", lambda: (n := written()) and n, 120, interval=0.1)
    if at >= total:
        raise ChaosError(f"the sweep wrote all {total} versions before the fault could be injected")
    report.steps.append(f"fault at {at} of {total} versions written")
    report.steps += lab.fault(fault, "FetchFunction")
    report.steps.append(lab.cli("sweep").strip() + " again, as the schedule would after the restart")
    lab.settle("the sweep to finish")
    report.steps.append(lab.redrive_diffs(before))
    lab.settle("the diffs of the first versions")
    for document in DOCUMENTS:
        report.rows.append(version_row(lab, document, before))
    status = json.loads(lab.cli("status", "--json"))
    failing = [row for row in status if row.get("consecutive_failures") or row.get("last_error")]
    if failing:
        report.problems.append(f"{len(failing)} document(s) failing after the sweep: {failing[0]}")
    return report


def publish_change(lab: Lab, edition: int) -> tuple[set[str], str]:
    """Publish ``edition`` of the followed document and sweep; returns the versions before and the new version's key."""
    document = next(d for d in DOCUMENTS if d.platform == ALERTED)
    lab.publish(document, edition)
    before = set(lab.keys("versions/"))
    lab.cli("sweep")
    new = lab.wait(
        f"{ALERTED}'s new version",
        lambda: [k for k in lab.keys(f"versions/{ALERTED}/") if k not in before],
        120,
        interval=0.05,
    )
    return before, new[0]


@_timed
def diff_scenario(lab: Lab, fault: str) -> Report:
    """A new version of Claude's policy (2025-08-29, model training on chats opt-out), stopped during its diff."""
    report = Report("mid-diff", fault)
    if not lab.members:  # the first of the fan-out's population: the change's deliveries are counted too
        lab.subscribe(population(len(MIX)), ALERTED)
        report.steps.append(f"{len(lab.members)} subscribers added (the mix's first {len(MIX)})")
    changes_before = set(lab.keys("changes/"))
    events_before = len(lab.change_events())
    before, version = publish_change(lab, 1)
    report.steps.append(f"published {DOCUMENTS[0].editions[1]}; swept; {version} archived")
    busy = lab.busy_workers("DiffFunction", timeout=20)
    recorded = [k for k in lab.keys("changes/") if k not in changes_before]
    if not busy or recorded:
        report.problems.append(
            "the fault missed the diff: " + ("it was recorded already" if recorded else "no diff worker was busy")
        )
    report.steps.append(f"fault with the diff under way ({len(busy)} DiffFunction worker(s) busy)")
    report.steps += lab.fault(fault, "DiffFunction")
    if fault == "stop":
        report.steps.append(lab.redrive_diffs(before))
    else:  # MiniStack's asynchronous invocation retries the killed diff, as AWS does (up to 2 retries)
        lab.wait(
            "the change record (the asynchronous retry of the killed diff)",
            lambda: new_changes(lab, changes_before),
            60,
        )
        report.steps.append("the change was recorded by the asynchronous invocation's retry")
    lab.wait("the change record", lambda: new_changes(lab, changes_before), 120)
    lab.wait("the change event", lambda: len(lab.change_events()) > events_before, 60)
    time.sleep(2)  # a second publication, if the diff published twice, arrives by now
    records = new_changes(lab, changes_before)
    events = lab.change_events()[events_before:]
    ids = Counter(e["change_id"] for e in events)
    record_ids = {json.loads(lab.object(k))["change_id"] for k in records}
    report.rows.append(
        Row(
            f"change records {ALERTED}",
            expected=1,
            found=len([k for k in records if k.startswith(f"changes/{ALERTED}/")]),
            duplicates=max(0, len(records) - 1),
            missing=0 if records else 1,
        )
    )
    report.rows.append(
        Row(
            "change events (distinct ids)",
            expected=1,
            found=len(ids),
            duplicates=max(0, len(ids) - 1),
            missing=0 if ids else 1,
            note=f"{sum(ids.values())} publication(s) of the same id" if sum(ids.values()) > 1 else "",
        )
    )
    if set(ids) != record_ids:
        report.problems.append(f"the change events {sorted(ids)} do not name the change records' {sorted(record_ids)}")
    report.rows.append(version_row(lab, DOCUMENTS[0], before))
    if len(record_ids) == 1 and len(records) == 1:
        (change_id,), (record_key,) = record_ids, records
        owed = owed_pairs(lab.members)
        try:  # nothing stopped the fan-out: every delivery is out within this, or something is stuck
            lab.wait("the change's deliveries", lambda: owed <= set(_delivered(lab, change_id, record_key)), 120)
            lab.wait("the delivery records to settle", lambda: _settled_records(lab, change_id), 60)
        except ChaosError as exc:
            report.problems.append(str(exc))
        _count_deliveries(lab, report, lab.members, owed, change_id, record_key, lab.deliveries(change_id)[0])
    return report


def owed_pairs(members: list[Member]) -> set[tuple[int, str]]:
    return {(m.n, channel) for m in members for channel in m.channels()}


def _settled_records(lab: Lab, change_id: str) -> bool:
    records, _ = lab.deliveries(change_id)
    return bool(records) and not [r for r in records if r.get("status") in UNSETTLED]


def version_row(lab: Lab, document: Document, before: Collection[str] = ()) -> Row:
    """The document's versions: one per edition its page has shown, none archived twice (since ``before``)."""
    shown = lab.published.get(document.platform, [])
    editions = len(shown)
    keys = lab.keys(f"versions/{document.platform}/")
    texts = [lab.object(k) for k in keys]
    distinct = len(set(texts))
    # The same text archived again right after itself, by this scenario (an earlier one's is its own row).
    twice = sum(1 for i in range(1, len(keys)) if texts[i] == texts[i - 1] and keys[i] not in before)
    return Row(
        f"versions {document.platform}",
        expected=editions,
        found=len(keys),
        duplicates=twice,
        missing=max(0, editions - distinct),
        note=(document.editions[shown[-1]] if shown else "")
        + (" (identical text archived again)" if twice else "")
        + (f" ({len(keys) - distinct} identical text(s) from before)" if len(keys) - distinct > twice else ""),
    )


def new_changes(lab: Lab, before: set[str]) -> list[str]:
    return [k for k in lab.keys("changes/") if k not in before]


@_timed
def fanout_scenario(lab: Lab, fault: str, size: int) -> Report:
    """Claude's next real change (2026-08-22) to ``size`` subscribers of the platform, stopped mid-fan-out."""
    fresh = population(size)[len(lab.members) :]
    report = Report(f"mid-fan-out ({size} subscribers)", fault)
    started = time.monotonic()
    lab.subscribe(fresh, ALERTED)
    mix = ", ".join(f"{n} {kind}" for kind, n in Counter(m.kind for m in lab.members).items())
    report.steps.append(
        f"{len(fresh)} subscribers added with policywatch subscribers add in {time.monotonic() - started:.0f} s"
        f" ({len(lab.members)} in all: {mix})"
    )
    members = lab.members
    owed = owed_pairs(members)
    changes_before = set(lab.keys("changes/"))
    before, version = publish_change(lab, 2)
    record_key = lab.wait("the change record", lambda: new_changes(lab, changes_before), 120, interval=0.2)[0]
    change_id = json.loads(lab.object(record_key))["change_id"]
    report.steps.append(f"published {DOCUMENTS[0].editions[2]}; change {change_id} recorded; fan-out under way")

    def out() -> int:
        delivered = _delivered(lab, change_id, record_key)
        return sum(len(v) for v in delivered.values())

    threshold = max(1, int(len(owed) * FANOUT_FAULT_SHARE))
    at = lab.wait(f"{threshold} deliveries out", lambda: (n := out()) >= threshold and n, 300, interval=0.5)
    if at >= len(owed):
        raise ChaosError(f"the fan-out sent all {len(owed)} deliveries before the fault could be injected")
    report.steps.append(f"fault at {at} of {len(owed)} deliveries out")
    report.steps += lab.fault(fault, "NotifyFunction")
    report.steps += lab.reconcile(change_id)
    lab.record_outbox()
    records, ledger = lab.deliveries(change_id)
    if ledger is not None:
        report.steps.append(
            "fan-out ledger: "
            + ", ".join(
                f"{k} {v}" for k, v in ledger.items() if k in ("pages_done", "pages_started", "watchers", "sent")
            )
        )
    _count_deliveries(lab, report, members, owed, change_id, record_key, records)
    report.rows.append(version_row(lab, DOCUMENTS[0], before))
    return report


def _delivered(lab: Lab, change_id: str, record_key: str) -> dict[tuple[int, str], list[str]]:
    """Each (member, channel)'s messages that went out: e-mails and SMS from the outbox, webhooks at the receiver
    (by webhook-id: a webhook resent after an interruption keeps its id, and receivers drop the repeat)."""
    lab.record_outbox()
    by_email = {f"chaos-{n:04d}@example.com": n for n in range(10000)}
    by_phone = {f"+1415555{n:04d}": n for n in range(10000)}
    found: dict[tuple[int, str], list[str]] = {}
    for m in lab.emails.values():
        named = CHANGE_ID_LINE.search(m.get("BodyText") or "")
        if not named or named.group(1) != change_id:
            continue
        for to in m.get("To", []):
            address = ADDRESS.search(to)
            if address and address.group(0) in by_email:
                found.setdefault((by_email[address.group(0)], "email"), []).append(m["MessageId"])
    page = record_key.removesuffix(".json")  # an SMS names its change by the link to its page
    for m in lab.texts.values():
        if m.get("PhoneNumber") in by_phone and page in (m.get("Message") or ""):
            found.setdefault((by_phone[m["PhoneNumber"]], "sms"), []).append(m["MessageId"])
    for call in list(lab.receiver.calls):
        if call["change_id"] == change_id and call["path"].startswith("/hooks/"):
            found.setdefault((int(call["path"].rsplit("/", 1)[1]), "webhook"), []).append(call["webhook_id"])
    return found


def _count_deliveries(
    lab: Lab,
    report: Report,
    members: list[Member],
    owed: set[tuple[int, str]],
    change_id: str,
    record_key: str,
    records: list[dict[str, Any]],
) -> None:
    delivered = _delivered(lab, change_id, record_key)
    status: dict[tuple[int, str], list[str]] = {}
    for r in records:
        n = lab.subscriber_ids.get(r.get("subscriber_id", ""))
        channel = str(r.get("channel", "?")).split(":", 1)[0]
        if n is None:
            report.problems.append(f"a delivery record for a subscriber outside the population: {r.get('recipient')}")
            continue
        status.setdefault((n, channel), []).append(str(r.get("status")))
    for channel in ("email", "sms", "webhook"):
        pairs = {p for p in owed if p[1] == channel}
        once = dupes = missing = interrupted = gone_out = resent = 0
        for pair in pairs:
            messages = delivered.get(pair, [])
            distinct = len(set(messages))
            was_interrupted = status.get(pair, []) == ["interrupted"]
            interrupted += was_interrupted
            gone_out += was_interrupted and distinct > 0
            resent += len(messages) - distinct  # the same webhook-id again: dropped by the receiver
            if distinct == 1:
                once += 1
            elif distinct > 1:
                dupes += distinct - 1
            elif not was_interrupted:
                missing += 1
        note = f"{interrupted} settled as interrupted ({gone_out} of them had gone out)" if interrupted else ""
        if interrupted > gone_out:
            report.notes.append(
                f"{interrupted - gone_out} {channel} deliveries settled as interrupted never went out: claimed (sending)"
                " when their sender died, never sent again by design (at most once), so never received"
            )
        if resent:
            note += ("; " if note else "") + f"{resent} webhook call(s) repeated with the same webhook-id"
        report.rows.append(Row(f"{channel} deliveries", len(pairs), once, dupes, missing, note))
    unexpected = [p for p in delivered if p not in owed]
    if unexpected:
        report.problems.append(f"{len(unexpected)} deliveries to subscribers not owed one (first {unexpected[0]})")
    expected_records = len(owed)
    settled = Counter(s for states in status.values() for s in states)
    extra = sum(len(states) - 1 for states in status.values() if len(states) > 1)
    no_record = len([p for p in owed if p not in status])
    report.rows.append(
        Row(
            "delivery records",
            expected_records,
            sum(len(states) for states in status.values()),
            duplicates=extra,
            missing=no_record,
            note=", ".join(f"{n} {s}" for s, n in sorted(settled.items())),
        )
    )
    wrong = {s: n for s, n in settled.items() if s not in ("sent", "interrupted")}
    if wrong:
        report.problems.append(f"delivery records not settled as sent or interrupted: {wrong}")
    for pair, states in status.items():
        if states == ["sent"] and not delivered.get(pair):
            report.problems.append(f"{pair} recorded as sent but not in the outbox or at the receiver")
            break


# ---------------------------------------------------------------- a round


def run_round(
    faults: dict[str, str],
    *,
    size: int = 1000,
    workdir: Path | None = None,
    say: Callable[[str], None] = print,
) -> list[Report]:
    """Deploy a fresh stack, then the scenarios in turn (each on what the one before left), each with its fault."""
    own = workdir is None
    workdir = workdir or Path(tempfile.mkdtemp(prefix="policywatch-chaos-"))
    lab = Lab(workdir, say)
    reports: list[Report] = []
    try:
        lab.up()
        if "sweep" not in faults:
            lab.baseline()
        for scenario in SCENARIOS:
            if scenario not in faults:
                continue
            if scenario == "sweep":
                report = sweep_scenario(lab, faults[scenario])
            elif scenario == "diff":
                report = diff_scenario(lab, faults[scenario])
            else:
                report = fanout_scenario(lab, faults[scenario], size)
            say(report.table())
            reports.append(report)
    finally:
        lab.down()
        if own:
            shutil.rmtree(workdir, ignore_errors=True)
        else:  # what was observed, for a look afterwards
            observed = {"emails": lab.emails, "sms": lab.texts, "webhooks": lab.receiver.calls, "events": lab.events}
            (workdir / "observed.json").write_text(json.dumps(observed, indent=1, default=str))
    return reports


def parse_faults(text: str) -> dict[str, str]:
    """``sweep=stop,diff=kill,fanout=stop`` -> {scenario: fault}."""
    faults = {}
    for part in filter(None, text.split(",")):
        scenario, _, fault = part.partition("=")
        if scenario not in SCENARIOS or fault not in FAULTS:
            raise argparse.ArgumentTypeError(
                f"{part!r}: scenario=fault, scenarios {', '.join(SCENARIOS)}, faults {', '.join(FAULTS)}"
            )
        faults[scenario] = fault
    return faults


ROUNDS = ("sweep=stop,diff=kill,fanout=stop", "sweep=kill,diff=stop,fanout=kill")


def _cli_batch() -> int:
    """Run ``policywatch`` commands (a JSON list of argv lists on stdin) in this process; JSON answers on stdout."""
    from policywatch_cli.main import main as policywatch

    argvs = json.loads(sys.stdin.read())

    def one(argv: list[str]) -> dict[str, Any]:
        out, err = io.StringIO(), io.StringIO()
        with _redirected(out, err):
            rc = policywatch(argv)
        return {"rc": rc, "out": out.getvalue(), "err": err.getvalue()}

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(one, argvs))
    if sys.__stdout__ is not None:
        sys.__stdout__.write(json.dumps(answers))
    return 0


_local = threading.local()


class _ThreadStream(io.TextIOBase):
    """sys.stdout/stderr for threads: each thread writes to its own buffer while one is set."""

    def __init__(self, name: str, fallback: Any) -> None:
        self.name, self.fallback = name, fallback

    def write(self, text: str) -> int:
        target = getattr(_local, self.name, None) or self.fallback
        return int(target.write(text))


@contextlib.contextmanager
def _redirected(out: io.StringIO, err: io.StringIO) -> Iterator[None]:
    _local.stdout, _local.stderr = out, err
    try:
        yield
    finally:
        _local.stdout = _local.stderr = None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.chaos", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--round",
        dest="rounds",
        action="append",
        type=parse_faults,
        metavar="SCENARIO=FAULT,...",
        help=f"one round on a fresh stack (repeat for more); default: {' then '.join(ROUNDS)}",
    )
    parser.add_argument("--subscribers", type=int, default=1000, help="the fan-out's population (1000)")
    parser.add_argument(
        "--workdir", type=Path, help="keep MiniStack's state and log here (one round only); default: a temporary folder"
    )
    parser.add_argument("--cli-batch", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cli_batch:
        sys.stdout = _ThreadStream("stdout", sys.__stdout__)
        sys.stderr = _ThreadStream("stderr", sys.__stderr__)
        return _cli_batch()
    rounds = args.rounds or [parse_faults(r) for r in ROUNDS]
    reports: list[Report] = []
    began = time.monotonic()
    try:
        for faults in rounds:
            print(f"round: {', '.join(f'{s} {f}' for s, f in faults.items())}", flush=True)
            reports += run_round(
                faults, size=args.subscribers, workdir=args.workdir, say=lambda line: print(line, flush=True)
            )
    except (ChaosError, StackError) as exc:
        print(f"chaos: error: {exc}", file=sys.stderr)
        return 1
    bad = [r for r in reports if not r.ok]
    print(f"{len(reports)} scenario(s) in {time.monotonic() - began:.0f} s: {len(bad)} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
