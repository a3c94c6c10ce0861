"""A latency-faithful fake of what notifications leave through: SES, SNS (SMS) and webhook receivers.

One HTTP server on loopback answers boto3's ``ses`` and ``sns`` clients (both speak the query
protocol: a form POST with ``Action=...``) and any ``POST /hooks/...`` as a subscriber's webhook
endpoint would. Every send is answered after a latency like the real thing's (tens of
milliseconds, a little jitter), and the per-second quotas are enforced as SES and SNS enforce
them, so a benchmark against it measures what the deployed code would meet, not how fast
loopback is:

- SES ``SendRawEmail`` / ``SendEmail``: ``MaxSendRate`` sends accepted in any sliding second,
  ``Max24HourSend`` in all; beyond either, HTTP 400 ``Throttling`` ("Maximum sending rate
  exceeded." / "Daily message quota exceeded."), as SES answers. botocore's standard retry mode
  retries ``Throttling`` (up to ``max_attempts``, backing off up to 1, 2, 4, 8 s): the server
  counts every throttled attempt, so retries show.
- SNS ``Publish`` to a ``PhoneNumber`` (an SMS): its own per-second quota, throttled as HTTP 400
  ``Throttling`` ("Rate exceeded"). A publish to a topic is answered and counted (kind
  ``topic``) without a quota. (SNS's modelled ``Throttled`` error, HTTP 429, is not retried by
  botocore; the generic ``Throttling`` is.)
- Webhooks: 204 after their latency, no quota.
- Other actions either client may call (VerifyEmailIdentity, GetSendQuota, CreateTopic ...)
  get a minimal valid answer.

Counters (accepted and throttled per kind, accepted per recipient, the peak accepted in any
sliding second, the peak in flight) are read by any process at ``GET /_counts`` (JSON;
``?recipients=0`` leaves the per-recipient map out), zeroed by ``POST /_reset``; ``POST /_config``
with a JSON object changes quotas and latencies while it runs. A recipient is an SES
destination address, an SMS's phone number, a topic's ARN or a webhook's path, so a benchmark
can check each got exactly one.

boto3 (1.28 and later) reaches it through the service-specific endpoint variables, while every
other service keeps ``AWS_ENDPOINT_URL`` (MiniStack)::

    AWS_ENDPOINT_URL_SES=<endpoint> AWS_ENDPOINT_URL_SNS=<endpoint>   # Providers.env()

They are read when a client is made: set them before (``policywatch.storage.clients.reset()``).

``Providers`` runs the server in a process of its own by default (the client processes of a
benchmark share two CPUs with it; in its own interpreter it never waits for theirs, or for the
benchmark's, GIL), or in a thread of the caller's with ``process=False``.

    .venv/bin/python -m bench.providers ceiling [--processes 16] [--threads 16] [--seconds 10]

measures how many sends per second the fake answers at its latency on this machine.
"""

from __future__ import annotations

import argparse
import base64
import functools
import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter, deque
from dataclasses import asdict, dataclass, fields, replace
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("ses", "sns", "topic", "webhook")
SES_NS = "http://ses.amazonaws.com/doc/2010-12-01/"
SNS_NS = "http://sns.amazonaws.com/doc/2010-03-31/"
SNS_VERSION = "2010-03-31"


@dataclass(frozen=True)
class Settings:
    """Quotas (sends accepted per sliding second; None: no limit) and latencies (seconds) of the fake.

    The defaults are a new production SES account's (14 a second, 50,000 a day) and SNS's
    default SMS throughput (20 a second); the latencies are what a send from a Lambda in the
    same region typically takes.
    """

    ses_rate: int | None = 14  # GetSendQuota's MaxSendRate
    ses_daily: int | None = 50_000  # GetSendQuota's Max24HourSend
    sns_rate: int | None = 20  # SMS a second
    ses_latency: float = 0.040
    sns_latency: float = 0.030
    webhook_latency: float = 0.050
    jitter: float = 0.005  # each answer's latency is the kind's +- up to this, uniformly
    webhook_status: int = 204

    def changed(self, changes: dict[str, Any]) -> Settings:
        """These settings with ``changes`` (a JSON object's fields); unknown names are refused."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        return replace(self, **changes)


class _Meter:
    """One kind's counters. Only touched under the state's lock."""

    def __init__(self) -> None:
        self.window: deque[float] = deque()  # accept times within the last second
        self.accepted = 0
        self.throttled = 0
        self.peak_per_second = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.recipients: Counter[str] = Counter()

    def admit(self, now: float, rate: int | None, total: int | None) -> str | None:
        """Accept one send at ``now`` unless a quota is used up; returns why it was refused, if it was."""
        window = self.window
        while window and window[0] <= now - 1.0:
            window.popleft()
        if total is not None and self.accepted >= total:
            self.throttled += 1
            return "daily"
        if rate is not None and len(window) >= rate:
            self.throttled += 1
            return "rate"
        window.append(now)
        self.accepted += 1
        self.peak_per_second = max(self.peak_per_second, len(window))
        return None


class State:
    """The fake's settings and counters, shared by the server's threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.lock = threading.Lock()
        self.meters = {kind: _Meter() for kind in KINDS}
        self.since = time.monotonic()

    def reset(self) -> None:
        with self.lock:
            self.meters = {kind: _Meter() for kind in KINDS}
            self.since = time.monotonic()

    def configure(self, changes: dict[str, Any]) -> Settings:
        with self.lock:
            self.settings = self.settings.changed(changes)
            return self.settings

    def admit(self, kind: str, recipients: list[str]) -> str | None:
        """Count one send of ``kind`` to ``recipients``; returns why it is throttled, or None (it is accepted)."""
        settings = self.settings
        rate, total = {
            "ses": (settings.ses_rate, settings.ses_daily),
            "sns": (settings.sns_rate, None),
        }.get(kind, (None, None))
        with self.lock:
            meter = self.meters[kind]
            refused = meter.admit(time.monotonic(), rate, total)
            if refused is None:
                meter.recipients.update(recipients)
                meter.in_flight += 1
                meter.peak_in_flight = max(meter.peak_in_flight, meter.in_flight)
            return refused

    def answered(self, kind: str) -> None:
        with self.lock:
            self.meters[kind].in_flight -= 1

    def counts(self, recipients: bool = True) -> dict[str, Any]:
        """The counters as ``GET /_counts`` returns them."""
        with self.lock:
            meters = self.meters
            counts: dict[str, Any] = {
                "seconds": round(time.monotonic() - self.since, 3),
                "settings": asdict(self.settings),
                "accepted": {k: m.accepted for k, m in meters.items()},
                "throttled": {k: m.throttled for k, m in meters.items()},
                "peak_per_second": {k: m.peak_per_second for k, m in meters.items()},
                "peak_in_flight": {k: m.peak_in_flight for k, m in meters.items()},
                "distinct_recipients": {k: len(m.recipients) for k, m in meters.items()},
                "duplicated_recipients": {k: sum(1 for n in m.recipients.values() if n > 1) for k, m in meters.items()},
            }
            if recipients:
                counts["recipients"] = {k: dict(m.recipients) for k, m in meters.items()}
        return counts

    def latency(self, kind: str) -> float:
        settings = self.settings
        base = {"ses": settings.ses_latency, "sns": settings.sns_latency, "topic": settings.sns_latency}.get(
            kind, settings.webhook_latency
        )
        return max(0.0, base + random.uniform(-settings.jitter, settings.jitter))  # noqa: S311 - not for secrets


# ------------------------------------------------------------------------------------------- the wire


def _xml_response(action: str, namespace: str, result: str = "") -> bytes:
    """A query-protocol answer: ``<ActionResponse><ActionResult>...`` as botocore's parser expects it."""
    return (
        f'<{action}Response xmlns="{namespace}"><{action}Result>{result}</{action}Result>'
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></{action}Response>"
    ).encode()


def _xml_error(namespace: str, code: str, message: str) -> bytes:
    return (
        f'<ErrorResponse xmlns="{namespace}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>{escape(message)}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    ).encode()


def _members(form: dict[str, list[str]], prefix: str) -> list[str]:
    """A query-protocol list (``Prefix.member.1``, ``Prefix.member.2`` ...) in order."""
    found = []
    n = 1
    while (value := form.get(f"{prefix}.member.{n}")) is not None:
        found.append(value[0])
        n += 1
    return found


def _raw_recipients(data: str) -> list[str]:
    """To, Cc and Bcc of a raw message (base64, as botocore sends a blob): SES's recipients without Destinations."""
    try:
        headers = BytesHeaderParser().parsebytes(base64.b64decode(data))
    except ValueError:
        return []
    values = [v for name in ("To", "Cc", "Bcc") for v in headers.get_all(name, [])]
    return [address for _, address in getaddresses(values) if address]


def _ses_recipients(action: str, form: dict[str, list[str]]) -> list[str]:
    if action == "SendEmail":
        return [a for part in ("To", "Cc", "Bcc") for a in _members(form, f"Destination.{part}Addresses")]
    return _members(form, "Destinations") or _raw_recipients(form.get("RawMessage.Data", [""])[0])


class _Handler(BaseHTTPRequestHandler):
    """One connection: keep-alive HTTP/1.1, each answer written in one piece (no Nagle delay)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def _answer(self, status: int, body: bytes = b"", content_type: str = "text/xml") -> None:
        head = f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nContent-Length: {len(body)}\r\n"
        if body:
            head += f"Content-Type: {content_type}\r\n"
        if self.close_connection:
            head += "Connection: close\r\n"
        self.wfile.write(head.encode() + b"\r\n" + body)

    def _json(self, data: Any) -> None:
        self._answer(200, json.dumps(data).encode(), "application/json")

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        url = urlsplit(self.path)
        if url.path == "/_counts":
            wanted = parse_qs(url.query).get("recipients", ["1"])[0] not in ("0", "false")
            self._json(self.server.state.counts(recipients=wanted))
        elif url.path == "/_health":
            self._json({"ok": True})
        else:
            self._answer(404)

    def do_POST(self) -> None:  # noqa: N802 - the base class's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = urlsplit(self.path).path
        state = self.server.state
        if path.startswith("/hooks/"):
            self._send("webhook", [path], lambda: (state.settings.webhook_status, b""))
        elif path == "/_reset":
            state.reset()
            self._json({"ok": True})
        elif path == "/_config":
            try:
                self._json(asdict(state.configure(json.loads(body or b"{}"))))
            except (ValueError, TypeError) as error:
                self._answer(400, str(error).encode(), "text/plain")
        else:
            self._query(parse_qs(body.decode(), keep_blank_values=True))

    def _send(self, kind: str, recipients: list[str], answer: Any, refusal: Any = None) -> None:
        """Admit one send, wait its latency, then answer: ``answer()`` if accepted, ``refusal(why)`` if throttled."""
        state = self.server.state
        refused = state.admit(kind, recipients)
        time.sleep(state.latency(kind))
        if refused is not None:
            self._answer(400, refusal(refused))
            return
        try:
            status, payload = answer()
            self._answer(status, payload)
        finally:
            state.answered(kind)

    def _query(self, form: dict[str, list[str]]) -> None:
        action = form.get("Action", [""])[0]
        if form.get("Version", [""])[0] == SNS_VERSION:
            self._sns(action, form)
        else:
            self._ses(action, form)

    def _ses(self, action: str, form: dict[str, list[str]]) -> None:
        state = self.server.state
        if action in ("SendRawEmail", "SendEmail"):
            messages = {"rate": "Maximum sending rate exceeded.", "daily": "Daily message quota exceeded."}
            self._send(
                "ses",
                _ses_recipients(action, form),
                lambda: (200, _xml_response(action, SES_NS, f"<MessageId>{_message_id()}</MessageId>")),
                lambda why: _xml_error(SES_NS, "Throttling", messages[why]),
            )
        elif action == "GetSendQuota":
            settings = state.settings
            sent = state.meters["ses"].accepted
            result = (
                f"<Max24HourSend>{float(settings.ses_daily if settings.ses_daily is not None else -1)}</Max24HourSend>"
                f"<MaxSendRate>{float(settings.ses_rate if settings.ses_rate is not None else -1)}</MaxSendRate>"
                f"<SentLast24Hours>{float(sent)}</SentLast24Hours>"
            )
            self._answer(200, _xml_response(action, SES_NS, result))
        elif action == "GetIdentityVerificationAttributes":
            entries = "".join(
                f"<entry><key>{escape(i)}</key><value><VerificationStatus>Success</VerificationStatus></value></entry>"
                for i in _members(form, "Identities")
            )
            self._answer(
                200, _xml_response(action, SES_NS, f"<VerificationAttributes>{entries}</VerificationAttributes>")
            )
        elif action == "VerifyDomainIdentity":
            token = f"<VerificationToken>{uuid.uuid4().hex}</VerificationToken>"
            self._answer(200, _xml_response(action, SES_NS, token))
        else:  # VerifyEmailIdentity and the like: nothing to say
            self._answer(200, _xml_response(action, SES_NS))

    def _sns(self, action: str, form: dict[str, list[str]]) -> None:
        if action == "Publish":
            phone = form.get("PhoneNumber", [""])[0]
            target = phone or form.get("TopicArn", form.get("TargetArn", [""]))[0]
            self._send(
                "sns" if phone else "topic",
                [target],
                lambda: (200, _xml_response(action, SNS_NS, f"<MessageId>{uuid.uuid4()}</MessageId>")),
                lambda _why: _xml_error(SNS_NS, "Throttling", "Rate exceeded"),
            )
        elif action == "CreateTopic":
            name = form.get("Name", ["topic"])[0]
            arn = f"<TopicArn>arn:aws:sns:us-east-1:000000000000:{escape(name)}</TopicArn>"
            self._answer(200, _xml_response(action, SNS_NS, arn))
        elif action == "CheckIfPhoneNumberIsOptedOut":
            self._answer(200, _xml_response(action, SNS_NS, "<isOptedOut>false</isOptedOut>"))
        else:  # SetSMSAttributes, GetSMSAttributes and the like
            self._answer(200, _xml_response(action, SNS_NS))


def _message_id() -> str:
    """An id shaped like SES's (``0100019...-<uuid>-000000``), unique."""
    return f"{time.time_ns() // 1_000_000:016x}-{uuid.uuid4()}-000000"


class _Server(ThreadingHTTPServer):
    """A thread per connection; a deep accept queue, so a burst of new connections is not refused."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], state: State) -> None:
        self.state = state
        super().__init__(address, _Handler)


# ---------------------------------------------------------------------------------------- the handle

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy


class Providers:
    """The fake, started and stopped by a benchmark: in a process of its own (default) or a thread of this one.

    ``endpoint`` is its base URL; ``env()`` the variables that send boto3's SES and SNS clients
    to it; ``hook(path)`` a webhook URL on it and ``allowlist`` its ``host:port`` (for
    ``WEBHOOK_HTTP_ALLOWLIST``). ``counts``, ``reset`` and ``configure`` talk to it over HTTP,
    whichever way it runs.
    """

    def __init__(self, settings: Settings | None = None, *, process: bool = True, host: str = "127.0.0.1") -> None:
        self.settings = settings or Settings()
        self.process = process
        self.host = host
        self.port = 0
        self._child: subprocess.Popen[bytes] | None = None
        self._server: _Server | None = None

    @property
    def endpoint(self) -> str:
        if not self.port:
            raise RuntimeError("the providers are not started")
        return f"http://{self.host}:{self.port}"

    @property
    def allowlist(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        """The process answering: the fake's own, or this one's when it runs in a thread."""
        return self._child.pid if self._child is not None else os.getpid()

    def hook(self, path: str) -> str:
        """A webhook endpoint's URL on the fake (counted under its path, ``/hooks/<path>``)."""
        return f"{self.endpoint}/hooks/{path.lstrip('/')}"

    def env(self) -> dict[str, str]:
        """The variables sending boto3's ``ses`` and ``sns`` clients here (others keep ``AWS_ENDPOINT_URL``)."""
        return {"AWS_ENDPOINT_URL_SES": self.endpoint, "AWS_ENDPOINT_URL_SNS": self.endpoint}

    def start(self, timeout: float = 15) -> Self:
        if self.process:
            command = [sys.executable, "-m", "bench.providers", "serve", "--host", self.host]
            command += ["--settings", json.dumps(asdict(self.settings))]
            self._child = subprocess.Popen(
                command, cwd=ROOT, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True
            )
            assert self._child.stdout is not None
            line = self._child.stdout.readline().decode()  # "listening <port>", once bound
            if not line.startswith("listening "):
                code = self._child.poll()
                self.stop()
                raise RuntimeError(f"the providers' process did not start (exit {code}): {line!r}")
            self.port = int(line.split()[1])
        else:
            self._server = _Server((self.host, 0), State(self.settings))
            self.port = self._server.server_address[1]
            serve_forever = functools.partial(self._server.serve_forever, poll_interval=0.05)  # a quick stop
            threading.Thread(target=serve_forever, name="providers", daemon=True).start()
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._call("GET", "/_health")
                return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._child is not None:
            self._child.terminate()
            try:
                self._child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._child.kill()
                self._child.wait()
            if self._child.stdout:
                self._child.stdout.close()
            self._child = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _call(self, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
        body = json.dumps(data).encode() if data is not None else (b"" if method == "POST" else None)
        request = urllib.request.Request(f"{self.endpoint}{path}", data=body, method=method)
        with _DIRECT.open(request, timeout=30) as response:
            return json.loads(response.read())

    def counts(self, recipients: bool = True) -> dict[str, Any]:
        """``GET /_counts``: accepted, throttled, peak_per_second, peak_in_flight, distinct_recipients,
        duplicated_recipients (each by kind: ses, sns, topic, webhook), recipients (kind -> recipient -> count)
        unless ``recipients=False``, seconds since the last reset and the settings."""
        return self._call("GET", "/_counts" + ("" if recipients else "?recipients=0"))

    def reset(self) -> None:
        """Zero every counter (the settings stay)."""
        self._call("POST", "/_reset")

    def configure(self, **changes: Any) -> Settings:
        """Change quotas or latencies (``Settings``' fields) while it runs; returns the settings now."""
        self.settings = Settings(**self._call("POST", "/_config", changes))
        return self.settings


def serve(settings: Settings, host: str = "127.0.0.1") -> None:
    """Run the fake in this process until it is terminated; prints ``listening <port>`` once bound."""
    threading.stack_size(512 * 1024)  # hundreds of connection threads: keep their stacks small
    server = _Server((host, 0), State(settings))
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()  # until SIGTERM (Providers.stop)


# ---------------------------------------------------------------------------------- the ceiling


def _sender(endpoint: str, threads: int, raw: bool) -> Any:
    """A function sending one SendRawEmail to a recipient: through one boto3 client shared by the
    process's threads, or (``raw``) a form POST on each thread's own keep-alive connection, which
    costs the sender next to nothing and so measures the server alone."""
    message = b"From: a@bench.example\r\nTo: b@bench.example\r\nSubject: x\r\n\r\nbody\r\n"
    if raw:
        import http.client
        from urllib.parse import urlencode

        local = threading.local()
        parts = urlsplit(endpoint)
        host, port = str(parts.hostname), parts.port

        def post(recipient: str) -> None:
            if not hasattr(local, "connection"):
                local.connection = http.client.HTTPConnection(host, port, timeout=30)
            form = {"Action": "SendRawEmail", "Version": "2010-12-01", "Source": "a@bench.example"}
            form |= {"Destinations.member.1": recipient, "RawMessage.Data": base64.b64encode(message).decode()}
            headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
            local.connection.request("POST", "/", urlencode(form), headers)
            response = local.connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")

        return post

    import boto3
    from botocore.config import Config

    client = boto3.client(
        "ses",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(retries={"total_max_attempts": 1}, max_pool_connections=threads),
    )
    client.get_send_quota()  # load the model before the clock starts
    return lambda recipient: client.send_raw_email(
        Source="a@bench.example", Destinations=[recipient], RawMessage={"Data": message}
    )


def _load(endpoint: str, threads: int, seconds: float, start_at: float, raw: bool, results: Any) -> None:
    """One client process: ``threads`` threads sending one after another until time is up; puts their latencies."""
    send = _sender(endpoint, threads, raw)
    latencies: list[float] = []
    lock = threading.Lock()

    def run(number: int) -> None:
        own: list[float] = []
        n = 0
        while time.time() < start_at + seconds:
            began = time.perf_counter()
            send(f"r{os.getpid()}-{number}-{n}@bench.example")
            own.append(time.perf_counter() - began)
            n += 1
        with lock:
            latencies.extend(own)

    time.sleep(max(0.0, start_at - time.time()))
    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put(latencies)


def ceiling(processes: int, threads: int, seconds: float, in_process: bool, raw: bool) -> dict[str, Any]:
    """Sends per second the fake answers (no quota, SES's latency) to ``processes`` x ``threads`` senders."""
    import multiprocessing

    spawn = multiprocessing.get_context("spawn")
    with Providers(Settings(ses_rate=None, ses_daily=None), process=not in_process) as providers:
        results = spawn.Queue()
        start_at = time.time() + 3 + processes * 0.3  # every process started and warm by then
        workers = [
            spawn.Process(target=_load, args=(providers.endpoint, threads, seconds, start_at, raw, results))
            for _ in range(processes)
        ]
        for worker in workers:
            worker.start()
        time.sleep(max(0.0, start_at - time.time()))
        cpu = _cpu_seconds(providers.pid)
        latencies = sorted(x for _ in workers for x in results.get())
        cpu = _cpu_seconds(providers.pid) - cpu
        for worker in workers:
            worker.join()
        counts = providers.counts(recipients=False)
    return {
        "senders": f"{processes} processes x {threads} threads" + (", raw HTTP" if raw else ", boto3"),
        "server": "thread of the caller" if in_process else "own process",
        "latency_setting_ms": Settings().ses_latency * 1000,
        "sends_per_second": round(len(latencies) / seconds),
        "ideal_per_second": round(processes * threads / Settings().ses_latency),
        "latency_ms_p50": round(latencies[len(latencies) // 2] * 1000, 1),
        "latency_ms_p99": round(latencies[int(len(latencies) * 0.99)] * 1000, 1),
        "peak_per_second": counts["peak_per_second"]["ses"],
        "peak_in_flight": counts["peak_in_flight"]["ses"],
        "server_cpu_ms_per_send": round(cpu * 1000 / max(len(latencies), 1), 3),
        "server_cpu_share": round(cpu / seconds, 2),  # of one CPU
    }


def _cpu_seconds(pid: int) -> float:
    """CPU time a process has used (Linux /proc): all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="run the fake until terminated (Providers starts it so)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--settings", default="{}", help="Settings' fields, as a JSON object")
    measure = commands.add_parser("ceiling", help="measure the sends per second it answers")
    measure.add_argument("--processes", type=int, default=16)
    measure.add_argument("--threads", type=int, default=16)
    measure.add_argument("--seconds", type=float, default=10)
    measure.add_argument("--in-process", action="store_true", help="the server in a thread of this process")
    measure.add_argument("--raw", action="store_true", help="senders post forms themselves, not through boto3")
    args = parser.parse_args()
    if args.command == "serve":
        serve(Settings().changed(json.loads(args.settings)), args.host)
    else:
        print(json.dumps(ceiling(args.processes, args.threads, args.seconds, args.in_process, args.raw), indent=2))


if __name__ == "__main__":
    main()
