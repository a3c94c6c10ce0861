"""Lambda instances behind an SQS event source, each a process of its own, for benchmarks.

``run_instances`` starts ``count`` processes (multiprocessing's spawn: a fresh interpreter each,
as each Lambda instance is), and each one does what the Lambda service does for a function with
an SQS event source mapping and ``ReportBatchItemFailures``:

1. cold start: set the function's environment, then import the handler's module (the project's
   root and the policywatch layer on ``sys.path``, as the tests import ``functions.*``), make one
   SQS client and look up each queue's ARN; it is then ready, and waits for the go;
2. long-poll its queues (``ReceiveMessage``, ``WaitTimeSeconds`` 1 by default, up to
   ``batch_size`` messages, every attribute, so ``ApproximateReceiveCount`` is there);
3. build the SQS event exactly as Lambda does (``Records`` with messageId, receiptHandle, body,
   attributes, messageAttributes in Lambda's lower-case shape, md5OfBody, eventSource,
   eventSourceARN, awsRegion) and call the handler with a context like Lambda's (the remaining
   time counts down from ``timeout_seconds``);
4. delete the messages that succeeded: all of them, unless the answer's ``batchItemFailures``
   names some (those are left to come back after the queue's visibility timeout). As Lambda,
   an exception, an invocation longer than the timeout, or a failure naming no message of the
   batch fails the whole batch.

Cold starts are not measured: the clock starts when every instance is ready (``on_ready`` runs
just before, e.g. to enqueue the work). Each process reports its counts at the end, and live
ones while it runs (``Instances.progress``).

A process runs one invocation at a time, as an instance does; with several queues it takes the
next batch from whichever has one, long-polling them in turn once all were empty (so an idle
instance may take up to ``wait_seconds`` per other queue to see a message).

Spawn imports the caller's main module again in each instance: a script calling
``run_instances`` must keep its work under ``if __name__ == "__main__":`` (bench modules do).

Not modelled: Lambda killing an instance at its timeout (the invocation runs on, then counts
as a failed batch), FIFO ordering across a failure, batching windows, more than 10 messages a
batch (one ReceiveMessage's most).

    .venv/bin/python -m bench.lambdas [--instances 1 4 16] [--messages 2000] [--batch-size 1]

measures how many invocations a second it drives with a handler doing nothing (its own
overhead, against a MiniStack of its own).
"""

from __future__ import annotations

import argparse
import base64
import importlib
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Self

ROOT = Path(__file__).resolve().parent.parent
PATHS = (str(ROOT), str(ROOT / "layers" / "policywatch"))  # the tests' view of functions/ and the layer
NOTIFY = "functions.notify.notify_handler:handler"
_LIVE = ("invocations", "messages", "deleted", "failures", "errors")  # each instance's live counts, one slot each


class Settable(Protocol):
    def is_set(self) -> bool: ...


StopWhen = Callable[[], bool] | Settable


@dataclass(frozen=True)
class Function:
    """What one instance runs: the handler (``module:attribute`` or Lambda's ``module.attribute``),
    its environment and its event source."""

    handler: str
    queues: tuple[str, ...]
    env: dict[str, str]
    timeout_seconds: float = 120
    batch_size: int = 1
    wait_seconds: int = 1
    name: str = "bench-function"
    memory_mb: int = 1024
    region: str = "us-east-1"
    logs: str | None = None  # a folder for each instance's stdout and stderr; None: stdout discarded

    def target(self) -> tuple[str, str]:
        module, colon, attribute = self.handler.partition(":")
        if not colon:
            module, _, attribute = self.handler.rpartition(".")
        return module, attribute


@dataclass
class InstanceReport:
    """One instance's counts at the end of a run."""

    instance: int
    pid: int = 0
    invocations: int = 0
    messages: int = 0  # records handed to the handler (a redelivered message counts each time)
    deleted: int = 0  # succeeded, deleted from the queue
    failures: int = 0  # records left for redelivery: named in batchItemFailures, or of a failed batch
    errors: int = 0  # invocations that raised
    timeouts: int = 0  # invocations longer than timeout_seconds
    empty_polls: int = 0
    poll_errors: int = 0  # ReceiveMessage or DeleteMessageBatch calls that failed (after the client's retries)
    cold_start_seconds: float = 0.0  # environment, import, client, queue ARNs
    handler_seconds: float = 0.0  # inside the handler, all invocations
    first_started: float | None = None  # time.time() of the first invocation's start
    last_ended: float | None = None  # and of the last one's end
    error_samples: list[str] = field(
        default_factory=list
    )  # up to 5 distinct (handler's or polling's), the first with its traceback
    startup_error: str = ""  # the instance never got ready: why


@dataclass
class Run:
    """A run's reports and its clock: ``started`` when every instance was ready and told to go,
    ``stopped`` when told to stop (time.time())."""

    reports: list[InstanceReport]
    started: float
    stopped: float

    @property
    def seconds(self) -> float:
        return self.stopped - self.started

    @property
    def busy_seconds(self) -> float:
        """From the go to the end of the last invocation: the run without the wait to notice it was done."""
        ends = [r.last_ended for r in self.reports if r.last_ended is not None]
        return (max(ends) - self.started) if ends else 0.0

    def total(self, name: str) -> int:
        return sum(getattr(r, name) for r in self.reports)

    @property
    def invocations(self) -> int:
        return self.total("invocations")

    @property
    def messages(self) -> int:
        return self.total("messages")

    @property
    def failures(self) -> int:
        return self.total("failures")

    @property
    def errors(self) -> int:
        return self.total("errors")


class Context:
    """A Lambda context: what handlers and aws-lambda-powertools read from it."""

    function_version = "$LATEST"
    identity = None
    client_context = None

    def __init__(self, function: Function, instance: int) -> None:
        account = "123456789012"
        self.function_name = function.name
        self.memory_limit_in_mb = function.memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:{function.region}:{account}:function:{function.name}"
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = f"bench/[$LATEST]{instance:04d}{uuid.uuid4().hex[:28]}"
        self.aws_request_id = ""
        self._timeout = function.timeout_seconds
        self._deadline = 0.0

    def invoked(self) -> Self:
        """This context for a new invocation: a new request id, the whole timeout ahead."""
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + self._timeout
        return self

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """Messages from ``ReceiveMessage`` (every attribute and message attribute) as Lambda's SQS event."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {k: _attribute(v) for k, v in m.get("MessageAttributes", {}).items()},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def _attribute(value: dict[str, Any]) -> dict[str, Any]:
    """A message attribute as Lambda writes it: lower-case keys, binary as base64, empty list fields."""
    shaped: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
    if "StringValue" in value:
        shaped["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        shaped["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return shaped


def failed_ids(response: Any, batch: Iterable[str]) -> set[str]:
    """The message ids a handler's answer leaves for redelivery, by Lambda's ReportBatchItemFailures rules.

    No answer, no ``batchItemFailures`` or an empty one: all succeeded. A failure without an
    ``itemIdentifier``, or naming a message not in the batch: the whole batch failed.
    """
    ids = set(batch)
    if not isinstance(response, dict) or not response.get("batchItemFailures"):
        return set()
    failures = response["batchItemFailures"]
    if not isinstance(failures, list):
        return ids
    named = {f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures}
    if None in named or "" in named or not named <= ids:
        return ids
    return named  # type: ignore[return-value]  # None and "" are out


# ------------------------------------------------------------------------------------ one instance


def _instance(
    function: Function, number: int, ready: Any, failed: Any, go: Any, stop: Any, live: Any, results: Any
) -> None:
    """One Lambda instance's life, in its own process: cold start, then poll and invoke until told to stop."""
    report = InstanceReport(number, os.getpid())
    try:
        began = time.perf_counter()
        handler, sqs, arns = _cold_start(function, number)
        report.cold_start_seconds = time.perf_counter() - began
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which says so
        report.startup_error = "".join(traceback.format_exception(error))
        results.put(report)
        with ready.get_lock():
            ready.value += 1
        with failed.get_lock():
            failed.value += 1
        return
    with ready.get_lock():
        ready.value += 1
    while not go.wait(0.1):
        if stop.is_set():
            results.put(report)
            return
    context = Context(function, number)
    queues = list(function.queues)
    turn = 0
    empty_in_a_row = 0
    while not stop.is_set():
        queue = queues[turn % len(queues)]
        turn += 1
        # One queue: always long-poll. Several: a quick look at each, a long poll once all were empty.
        wait = function.wait_seconds if len(queues) == 1 or empty_in_a_row >= len(queues) else 0
        try:
            messages = sqs.receive_message(
                QueueUrl=queue,
                MaxNumberOfMessages=function.batch_size,
                WaitTimeSeconds=wait,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
        except Exception as error:  # noqa: BLE001 - the event source polls on, as Lambda's does
            report.poll_errors += 1
            _sample(report, error)
            time.sleep(0.1)
            continue
        if not messages:
            report.empty_polls += 1
            empty_in_a_row += 1
            continue
        empty_in_a_row = 0
        _invoke(function, handler, sqs, queue, arns[queue], messages, context.invoked(), report)
        for slot, name in enumerate(_LIVE):
            live[number * len(_LIVE) + slot] = getattr(report, name)
    results.put(report)


def _cold_start(function: Function, number: int) -> tuple[Callable[..., Any], Any, dict[str, str]]:
    """The environment first, then the handler's import, the SQS client and the queues' ARNs."""
    os.environ.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_REGION": function.region,
            "AWS_DEFAULT_REGION": function.region,
        }
    )
    os.environ.update(function.env)
    for path in reversed(PATHS):
        if path not in sys.path:
            sys.path.insert(0, path)
    if function.logs:
        log = open(Path(function.logs) / f"instance-{number:02d}.log", "a", buffering=1)  # noqa: SIM115 - for the process's life
        sys.stdout = sys.stderr = log
    else:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the handler's logs and metrics, for the process's life
    if "policywatch.storage.clients" in sys.modules:  # made before the environment was the function's
        sys.modules["policywatch.storage.clients"].reset()
    module, attribute = function.target()
    handler = getattr(importlib.import_module(module), attribute)

    import boto3
    from botocore.config import Config

    sqs = boto3.client(
        "sqs",
        region_name=function.region,
        config=Config(retries={"mode": "standard", "max_attempts": 5}, read_timeout=function.wait_seconds + 30),
    )
    arns = {
        q: sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for q in function.queues
    }
    return handler, sqs, arns


def _invoke(
    function: Function,
    handler: Callable[..., Any],
    sqs: Any,
    queue: str,
    arn: str,
    messages: list[dict[str, Any]],
    context: Context,
    report: InstanceReport,
) -> None:
    """One invocation with ``messages``, then the deletes its answer allows."""
    event = sqs_event(messages, arn, function.region)
    ids = [m["MessageId"] for m in messages]
    started, wall = time.perf_counter(), time.time()
    report.first_started = report.first_started or wall
    try:
        failed = failed_ids(handler(event, context), ids)
    except Exception as error:  # noqa: BLE001 - Lambda reports it and the batch comes back
        report.errors += 1
        failed = set(ids)
        _sample(report, error)
    took = time.perf_counter() - started
    if took > function.timeout_seconds:
        report.timeouts += 1
        failed = set(ids)
    report.invocations += 1
    report.messages += len(messages)
    report.failures += len(failed)
    report.handler_seconds += took
    done = [m for m in messages if m["MessageId"] not in failed]
    if done:
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
        try:
            answer = sqs.delete_message_batch(QueueUrl=queue, Entries=entries)
            report.deleted += len(done) - len(answer.get("Failed", []))
        except Exception as error:  # noqa: BLE001 - the messages come back, as they would in AWS
            report.poll_errors += 1
            _sample(report, error)
    report.last_ended = time.time()


def _sample(report: InstanceReport, error: Exception) -> None:
    line = f"{type(error).__name__}: {error}"
    if len(report.error_samples) >= 5 or any(s.splitlines()[-1] == line for s in report.error_samples):
        return
    text = "".join(traceback.format_exception(error)) if not report.error_samples else line
    report.error_samples.append(text.rstrip())


# ----------------------------------------------------------------------------------------- the pool


class Instances:
    """``count`` instances of ``function``: ``start`` (cold starts, waits until all are ready), ``go``,
    ``progress`` while they run, ``stop`` (each finishes its invocation and reports)."""

    def __init__(self, count: int, function: Function) -> None:
        if count < 1:
            raise ValueError("at least one instance")
        if not 1 <= function.batch_size <= 10:
            raise ValueError("batch_size is 1 to 10 (one ReceiveMessage)")
        if not function.queues:
            raise ValueError("no queue to poll")
        self.count = count
        self.function = function
        spawn = multiprocessing.get_context("spawn")
        self._ready, self._failed = spawn.Value("i", 0), spawn.Value("i", 0)
        self._go, self._stop = spawn.Event(), spawn.Event()
        self._live = spawn.RawArray("q", count * len(_LIVE))
        self._results = spawn.Queue()
        self._processes = [
            spawn.Process(
                target=_instance,
                args=(function, n, self._ready, self._failed, self._go, self._stop, self._live, self._results),
                name=f"instance-{n}",
                daemon=True,
            )
            for n in range(count)
        ]
        self.started = self.stopped = 0.0

    def start(self, timeout: float = 180) -> Self:
        """Start every instance and wait for their cold starts; an instance that failed to start raises here."""
        for process in self._processes:
            process.start()
        deadline = time.monotonic() + timeout
        while self._ready.value < self.count:
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(
                    f"{self.count - self._ready.value} of {self.count} instances not ready in {timeout}s"
                )
            if not any(p.is_alive() for p in self._processes):
                break
            time.sleep(0.02)
        return self

    @property
    def failed(self) -> int:
        """Instances whose cold start failed (their reports say why)."""
        return self._failed.value + sum(p.exitcode not in (None, 0) for p in self._processes)

    def go(self) -> float:
        """Let every instance poll; returns the time (time.time()) the run starts."""
        self.started = time.time()
        self._go.set()
        return self.started

    def progress(self) -> dict[str, int]:
        """The instances' counts so far (each updated after each invocation)."""
        width = len(_LIVE)
        return {name: sum(self._live[n * width + i] for n in range(self.count)) for i, name in enumerate(_LIVE)}

    def alive(self) -> int:
        return sum(p.is_alive() for p in self._processes)

    def stop(self) -> list[InstanceReport]:
        """Tell every instance to stop after its current invocation; their reports, in instance order."""
        self.stopped = self.stopped or time.time()
        self._stop.set()
        reports: dict[int, InstanceReport] = {}
        deadline = time.monotonic() + self.function.timeout_seconds + self.function.wait_seconds + 30
        while len(reports) < self.count and time.monotonic() < deadline:
            try:
                report = self._results.get(timeout=0.2)
                reports[report.instance] = report
            except Exception:  # noqa: BLE001, S112 - queue.Empty: check who is still alive
                if not any(p.is_alive() for p in self._processes) and self._results.empty():
                    break
        for process in self._processes:
            process.join(timeout=max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.terminate()
                process.join()
        for n, process in enumerate(self._processes):
            if n not in reports:
                reports[n] = InstanceReport(n, process.pid or 0, startup_error=f"exited {process.exitcode}, no report")
        return [reports[n] for n in range(self.count)]


def drained(queues: Iterable[str], every: float = 0.25) -> Callable[[], bool]:
    """A ``stop_when`` that is true once no queue holds a message (visible, in flight or delayed).

    It asks SQS at most every ``every`` seconds; SQS's approximate counts lag, so it is meant for
    runs whose end is not timed by it (use ``Run.busy_seconds``)."""
    import boto3

    sqs: Any = boto3.client("sqs")
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    urls = list(queues)
    last = [0.0]

    def check() -> bool:
        if time.monotonic() - last[0] < every:
            return False
        last[0] = time.monotonic()
        for url in urls:
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
            if any(int(attributes.get(n, 0)) for n in names):
                return False
        return True

    return check


def run_instances(
    count: int,
    handler: str = NOTIFY,
    queues: Iterable[str] = (),
    env: dict[str, str] | None = None,
    timeout_seconds: float = 120,
    batch_size: int = 1,
    stop_when: StopWhen | None = None,
    *,
    wait_seconds: int = 1,
    on_ready: Callable[[], None] | None = None,
    deleted: int | None = None,
    max_seconds: float | None = None,
    poll_seconds: float = 0.05,
    logs: Path | None = None,
    name: str = "bench-function",
    memory_mb: int = 1024,
) -> Run:
    """Run ``count`` instances of ``handler`` on ``queues`` until ``stop_when`` (a callable returning
    True, or anything with ``is_set()``: a threading or multiprocessing Event) says so, or
    ``max_seconds`` have passed since the go, or (``deleted``) once that many messages succeeded
    and were deleted; with neither ``stop_when`` nor ``deleted``, until the queues are drained.

    Every instance is started and warm before ``on_ready`` runs (enqueue the work there, or
    before) and the clock starts. ``env`` is the function's environment, on top of this process's.
    Raises RuntimeError if an instance could not start (its traceback in the message).
    """
    urls = tuple(queues)
    function = Function(
        handler,
        urls,
        dict(env or {}),
        timeout_seconds,
        batch_size,
        wait_seconds,
        name,
        memory_mb,
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        logs=str(logs) if logs else None,
    )
    if logs:
        logs.mkdir(parents=True, exist_ok=True)
    instances = Instances(count, function).start()
    stopping: list[Callable[[], bool]] = []
    if stop_when is not None:
        stopping.append(_stop_check(stop_when))
    if deleted is not None:
        stopping.append(lambda: instances.progress()["deleted"] >= deleted)
    if not stopping:
        stopping.append(drained(urls))
    try:
        if instances.failed:
            reports = instances.stop()
            failed = next(r for r in reports if r.startup_error)
            raise RuntimeError(f"instance {failed.instance} did not start:\n{failed.startup_error}")
        if on_ready:
            on_ready()
        started = instances.go()
        while not any(check() for check in stopping) and instances.alive():
            if max_seconds is not None and time.time() - started > max_seconds:
                break
            time.sleep(poll_seconds)
    except BaseException:
        instances.stop()
        raise
    stopped = time.time()
    return Run(instances.stop(), started, stopped)


def _stop_check(stop_when: StopWhen) -> Callable[[], bool]:
    if hasattr(stop_when, "is_set"):
        return stop_when.is_set
    return stop_when


# ------------------------------------------------------------------------------- its own overhead


def noop_handler(event: dict[str, Any], context: Any) -> dict[str, list[Any]]:
    """A handler doing nothing (every record succeeds): what the harness costs without the work."""
    return {"batchItemFailures": []}


def overhead(counts: list[int], messages: int, batch_size: int) -> list[dict[str, Any]]:
    """Invocations a second the harness drives with ``noop_handler``, for each instance count, on a MiniStack of its own."""
    import boto3

    from devstack.ministack import MiniStack, free_port

    found = []
    with tempfile.TemporaryDirectory() as state:
        ministack = MiniStack(free_port(), Path(state))
        ministack.start()
        try:
            os.environ.update({k: v for k, v in ministack.env().items() if k.startswith("AWS_")})
            sqs = boto3.client("sqs")
            for count in counts:
                queue = sqs.create_queue(QueueName=f"overhead-{count}", Attributes={"VisibilityTimeout": "60"})[
                    "QueueUrl"
                ]

                def enqueue(queue: str = queue) -> None:
                    threads = [
                        threading.Thread(target=_enqueue, args=(sqs, queue, range(start, messages, 8)))
                        for start in range(8)
                    ]
                    for thread in threads:
                        thread.start()
                    for thread in threads:
                        thread.join()

                enqueue()  # before the go: the instances find a full queue
                cpu = _cpu_seconds(ministack)
                run = run_instances(
                    count,
                    "bench.lambdas:noop_handler",
                    [queue],
                    batch_size=batch_size,
                    deleted=messages,
                    max_seconds=300,
                )
                found.append(
                    {
                        "instances": count,
                        "batch_size": batch_size,
                        "messages": run.messages,
                        "invocations": run.invocations,
                        "seconds": round(run.busy_seconds, 2),
                        "invocations_per_second": round(run.invocations / run.busy_seconds, 1),
                        "messages_per_second": round(run.messages / run.busy_seconds, 1),
                        "cold_start_seconds_max": round(max(r.cold_start_seconds for r in run.reports), 2),
                        "ministack_cpu_share": round((_cpu_seconds(ministack) - cpu) / run.seconds, 2),  # of one CPU
                    }
                )
        finally:
            ministack.stop()
    return found


def _cpu_seconds(ministack: Any) -> float:
    """CPU time MiniStack has used so far (Linux /proc; with its waited-for children)."""
    fields = Path(f"/proc/{int(ministack.pid_file.read_text())}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _enqueue(sqs: Any, queue: str, numbers: Iterable[int]) -> None:
    batch: list[dict[str, str]] = []
    for n in numbers:
        batch.append({"Id": str(n), "MessageBody": json.dumps({"n": n})})
        if len(batch) == 10:
            sqs.send_message_batch(QueueUrl=queue, Entries=batch)
            batch = []
    if batch:
        sqs.send_message_batch(QueueUrl=queue, Entries=batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=1)
    args = parser.parse_args()
    for line in overhead(args.instances, args.messages, args.batch_size):
        print(json.dumps(line))


if __name__ == "__main__":
    main()
