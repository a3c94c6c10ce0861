"""Benchmark: a sweep of 200 documents against a local site answering in 300 ms.

Target (issue 3): the sweep as deployed is at least 15x faster than fetching the same
documents one after another, measured in one run. Both runs use the real code path: the
sweep's FIFO jobs, the fetch handler, the archivist and extraction, with S3, DynamoDB and
SQS on a MiniStack of the benchmark's own. Each poller is a separate process, as each
Lambda instance is (its own interpreter and CPU share):

- one after another: one poller, one job per invocation;
- as deployed: the fetch queue's event source with MaximumConcurrency 5 and batches of 10
  (template.yaml), each invocation running its batch's message groups in parallel, and
  HOST_CONCURRENCY 2 (at most two requests at once to any host).

The 200 documents are spread over 40 hosts (127.0.0.2 ... 127.0.0.41: every 127/8 address
is loopback on Linux), five per host, as a catalog spreads over platforms. The server
counts concurrent requests per host, so the politeness limit is checked in the same run.
The page is DeepSeek's privacy policy (Open Terms Archive GenAI collection, ODC-By 1.0).

    .venv/bin/python -m bench.sweep [--documents 200] [--delay 0.3]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from devstack.events import sqs_event
from devstack.ministack import MiniStack, free_port
from policywatch.catalog import parse_catalog
from policywatch.fetch.sweep import enqueue
from policywatch.storage import clients as aws

ROOT = Path(__file__).resolve().parent.parent
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "POWERTOOLS_SERVICE_NAME": "policywatch",
        "POWERTOOLS_METRICS_NAMESPACE": "policywatch",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "HOST_CONCURRENCY": "2",
    }
)


PAGE = ROOT.parent / "shared/corpus/snapshots/deepseek/privacy-policy/2026-02-10.html"
HOSTS = 40
POLLERS = 5  # template.yaml: ScalingConfig.MaximumConcurrency
BATCH = 10  # template.yaml: BatchSize


class Site:
    """One handler on many loopback addresses; answers after ``delay`` and counts concurrency per host."""

    def __init__(self, delay: float, hosts: int) -> None:
        self.delay = delay
        self.body = PAGE.read_bytes()
        self.lock = threading.Lock()
        self.active: dict[str, int] = defaultdict(int)
        self.peak: dict[str, int] = defaultdict(int)
        self.requests = 0
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                host = self.server.server_address[0]
                with site.lock:
                    site.requests += 1
                    site.active[host] += 1
                    site.peak[host] = max(site.peak[host], site.active[host])
                try:
                    time.sleep(site.delay)
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(site.body)))
                    self.end_headers()
                    self.wfile.write(site.body)
                finally:
                    with site.lock:
                        site.active[host] -= 1

            def log_message(self, *args) -> None:
                pass

        self.servers = []
        for n in range(hosts):
            server = ThreadingHTTPServer((f"127.0.0.{n + 2}", 0), Handler)
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)

    def urls(self, documents: int) -> list[str]:
        return [
            f"http://{s.server_address[0]}:{s.server_address[1]}/policy/{i}"
            for i in range(documents)
            for s in [self.servers[i % len(self.servers)]]
        ]

    def reset(self) -> None:
        self.peak.clear()
        self.requests = 0

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()


class Context:
    function_name = "bench-fetch"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench-fetch"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 120_000


def _catalog(urls: list[str]):
    declarations = []
    for i, url in enumerate(urls):
        declarations.append(
            (
                f"bench#{i}",
                {
                    "id": f"platform-{i:03d}",
                    "name": f"Platform {i}",
                    "operator": "Bench",
                    "documents": [{"type": "Privacy Policy", "pages": [{"url": url, "select": ["#write"]}]}],
                },
            )
        )
    return parse_catalog(declarations)


def _stack(run: str) -> str:
    """Fresh bucket, table and FIFO queue for one run; returns the queue URL."""
    bucket = f"bench-{run}"
    aws.client("s3").create_bucket(Bucket=bucket)
    aws.client("dynamodb").create_table(
        TableName=f"documents-{run}",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "document_key", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "document_key", "KeyType": "HASH"}],
    )
    queue = aws.client("sqs").create_queue(
        QueueName=f"fetch-{run}.fifo", Attributes={"FifoQueue": "true", "VisibilityTimeout": "720"}
    )["QueueUrl"]
    os.environ.update({"ARCHIVE_BUCKET": bucket, "DOCUMENTS_TABLE": f"documents-{run}", "FETCH_QUEUE_URL": queue})
    return queue


def _poller(queue: str, batch: int, ready, start, stop, done) -> None:
    """One Lambda instance behind the event source: receive a batch, invoke, delete what succeeded."""
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the handlers' logs and metrics, for the whole process
    from functions.fetch import fetch_handler

    sqs = aws.client("sqs")
    for service in ("sqs", "s3", "dynamodb"):  # a warm instance: imports done, clients made
        aws.client(service)
    sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    with ready.get_lock():
        ready.value += 1
    start.wait()
    while not stop.is_set():
        messages = sqs.receive_message(
            QueueUrl=queue, MaxNumberOfMessages=batch, AttributeNames=["All"], WaitTimeSeconds=1
        ).get("Messages", [])  # long polling, as the event source does
        if not messages:
            continue
        event = sqs_event(messages)
        failed = {f["itemIdentifier"] for f in fetch_handler.handler(event, Context())["batchItemFailures"]}
        succeeded = [m for m in messages if m["MessageId"] not in failed]
        if succeeded:
            sqs.delete_message_batch(
                QueueUrl=queue,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(succeeded)],
            )
            with done.get_lock():
                done.value += len(succeeded)


def _run(run: str, urls: list[str], pollers: int, batch: int) -> tuple[float, int]:
    queue = _stack(run)
    enqueue(_catalog(urls), queue, sweep=run, per_host=int(os.environ["HOST_CONCURRENCY"]))
    spawn = multiprocessing.get_context("spawn")
    start, stop, done, ready = spawn.Event(), spawn.Event(), spawn.Value("i", 0), spawn.Value("i", 0)
    workers = [spawn.Process(target=_poller, args=(queue, batch, ready, start, stop, done)) for _ in range(pollers)]
    for worker in workers:
        worker.start()
    while ready.value < pollers:  # cold starts (imports, clients) are not part of the sweep
        time.sleep(0.05)
    time.sleep(0.5)
    started = time.perf_counter()
    start.set()
    while done.value < len(urls) and time.perf_counter() - started < 900:
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    stop.set()
    for worker in workers:
        worker.join()
    versions = aws.client("s3").list_objects_v2(Bucket=f"bench-{run}", Prefix="versions/").get("KeyCount", 0)
    return elapsed, versions


def _cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process and its waited-for children (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.3, help="seconds the site takes to answer")
    args = parser.parse_args()
    if args.documents < 1 or args.delay < 0:
        parser.error("--documents must be at least 1 and --delay not negative")
    site = Site(args.delay, HOSTS)
    urls = site.urls(args.documents)
    # The site is on loopback addresses, which the fetcher refuses unless allowlisted (as locally).
    os.environ["FETCH_ALLOWLIST"] = " ".join(f"{h}:{p}" for h, p in (s.server_address[:2] for s in site.servers))
    ministack = MiniStack(free_port(), Path(tempfile.mkdtemp(prefix="bench-ministack-")))
    try:
        ministack.start()
        os.environ.update({k: v for k, v in ministack.env().items() if k.startswith("AWS_")})
        aws.reset()
        sequential, seq_versions = _run("sequential", urls, pollers=1, batch=1)
        seq_peak = max(site.peak.values())
        site.reset()
        emulator_before = _cpu_seconds(int(ministack.pid_file.read_text()))
        parallel, par_versions = _run("deployed", urls, pollers=POLLERS, batch=BATCH)
        emulator_cpu = _cpu_seconds(int(ministack.pid_file.read_text())) - emulator_before
        par_peak = max(site.peak.values())
    finally:
        site.close()
        ministack.stop()
    ratio = sequential / parallel
    print(
        json.dumps(
            {
                "documents": args.documents,
                "hosts": HOSTS,
                "site_delay_s": args.delay,
                "one_after_another_s": round(sequential, 2),
                "as_deployed_s": round(parallel, 2),
                "speedup": round(ratio, 1),
                "target_speedup": 15,
                "versions_archived": [seq_versions, par_versions],
                "peak_requests_per_host": [seq_peak, par_peak],
                "host_concurrency_limit": int(os.environ["HOST_CONCURRENCY"]),
                "emulator_cpu_s_during_deployed_run": round(emulator_cpu, 2),
                "cpus": os.cpu_count(),
            },
            indent=2,
        )
    )
    print(
        f"sweep of {args.documents} documents: {sequential:.1f} s one after another, {parallel:.1f} s as deployed: "
        f"{ratio:.1f}x (target >= 15x); at most {par_peak} concurrent requests per host (limit "
        f"{os.environ['HOST_CONCURRENCY']}) - {'OK' if ratio >= 15 and par_peak <= 2 else 'BELOW TARGET'}"
    )


if __name__ == "__main__":
    main()
