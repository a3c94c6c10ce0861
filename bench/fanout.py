"""Benchmark: one change fanned out by 1, 4 and 16 NotifyFunction instances, paced to the account's quotas.

Target (issue 18): deliveries per second for 1, 4 and 16 instances, the ratio against one, and
the projected time for 10,000, 100,000 and 1,000,000 subscribers of one platform at a stated
account quota; DynamoDB items read per subscriber stays 1.

Everything deployed runs for real: each instance is a separate process running
``functions/notify/notify_handler.handler`` the way Lambda's SQS event source runs it
(``bench/lambdas.py``: long polls, one page per invocation, batch item failures), against a
MiniStack of the benchmark's own (DynamoDB, SQS, S3). SES, SNS and the webhook receivers are
``bench/providers.py``: every send answered after tens of milliseconds, and the quotas enforced
as SES and SNS enforce them (a send past the quota is answered ``Throttling``). The instances
read SES's quota from it (GetSendQuota) and keep to it through the shared send schedule
(``policywatch.storage.sendrate``), as the deployed functions do.

The subscribers of the changed platform: 80% by email, 10% by email and SMS, 10% Professional
by email and webhook; plus 500 subscribers of another platform, who must not be read. Each run
fans a fresh change out to all of them, from the change event to the ledger's ``completed_at``.

This machine has two CPUs for MiniStack, the fake and every instance (a Lambda instance has its
own): together they answer about 65-80 deliveries a second, whatever the number of instances.
So that the benchmark measures how the fan-out grows with instances rather than that ceiling,
each instance keeps ``--in-flight`` deliveries in flight (1, not the deployed 16: an instance is
then bound by its sends' latency, as in AWS) and the fake account's SES quota is 50 a second;
the figures show throughput growing with instances until the quota stops it. The projection
uses the rate of one instance measured here, at the deployed FanOutConcurrency, against the
account quotas AWS grants (a new account's, and raised ones).

    .venv/bin/python -m bench.fanout [--subscribers 2000] [--ses-rate 50] [--in-flight 1] [--instances 1,4,16]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.lambdas import run_instances
from bench.providers import Providers, Settings
from devstack.ministack import MiniStack, free_port
from devstack.tables import create_tables
from policywatch.notify import pages
from policywatch.storage import clients as aws
from policywatch.storage.fanouts import FanOuts, complete
from policywatch.storage.queues import Queue
from policywatch.subscribers import Endpoint, Subscriber
from policywatch.subscribers.secrets import new_secret

ROOT = Path(__file__).resolve().parent.parent
EVENT = ROOT / "events" / "notify.json"  # the real Claude.ai training change (Open Terms Archive, ODC-By 1.0)
SENDER = "alerts@policywatch.bench"
BUCKET = "bench-archive"
PROJECTED = (10_000, 100_000, 1_000_000)
DEPLOYED_IN_FLIGHT = 16  # NOTIFY_CONCURRENCY as deployed


@dataclass
class Measured:
    instances: int
    deliveries: int
    seconds: float
    emails: int
    sms: int
    webhooks: int
    throttled: int
    duplicates: int
    peak_email_per_second: int
    items_read: int
    watchers: int
    pages: int

    @property
    def rate(self) -> float:
        return self.deliveries / self.seconds


def seed(platform: str, count: int, hooks: Providers, prefix: str) -> None:
    """Write ``count`` active subscribers of ``platform`` (profile and watch item each)."""
    secret = new_secret()
    items: list[dict[str, Any]] = []
    for n in range(count):
        kind = n % 10
        pro = kind == 9
        subscriber = Subscriber(
            subscriber_id=f"sub_{prefix}{n:07d}",
            email=f"reader{n}@{prefix}.example.com",
            tier="professional" if pro else "watcher",
            platforms=[platform],
            phone=f"+1415{n:07d}" if kind == 8 else None,
            webhooks=[Endpoint(f"wh_{n:07d}", hooks.hook(f"{prefix}/{n}"), secret)] if pro else [],
            status="active",
            unsubscribe_token=f"token{n}",
            version=1,
        )
        data = subscriber.to_item()
        items += [{**data, "item": "profile"}, {**data, "item": f"watch#{platform}", "platform": platform}]
    write_subscribers(items)


def write_subscribers(items: list[dict[str, Any]]) -> None:
    """Profile and watch items into the subscribers table, 25 to a BatchWriteItem."""
    db = aws.client("dynamodb")
    for start in range(0, len(items), 25):
        requests = [{"PutRequest": {"Item": aws.to_dynamodb(i)}} for i in items[start : start + 25]]
        while requests:
            left = db.batch_write_item(RequestItems={"subscribers": requests}).get("UnprocessedItems", {})
            requests = left.get("subscribers", [])


def fan_out(
    instances: int, record: dict[str, Any], queues: dict[str, str], env: dict[str, str], providers: Providers
) -> Measured:
    """One change from its event to its ledger's completion, by ``instances`` processes."""
    change = copy.deepcopy(record)
    change["change_id"] = f"{record['change_id']}-{instances}x"
    change["record_key"] = record["record_key"].replace(".json", f"-{instances}x.json")
    aws.client("s3").put_object(Bucket=BUCKET, Key=change["record_key"], Body=json.dumps(change).encode())
    providers.reset()
    fanouts = FanOuts("deliveries")
    done: list[float] = []

    def completed() -> bool:
        summary = fanouts.summary(change["change_id"])
        if summary is not None and complete(summary) and "completed_at" in summary:
            done.append(time.time())
            return True
        return False

    def start() -> None:
        # What NotifyFunction does with the change event (functions/notify/notify_handler.py): its
        # ledger and page 1. The instances then take pages only, as the fan-out queue's do.
        body = json.dumps(change)
        pages.start(
            "alert",
            change["change_id"],
            change["record_key"],
            [change["platform"]],
            fanouts=fanouts,
            queue=Queue(queues["fanout"]),
            event=body,
        )

    run = run_instances(
        instances,
        queues=[queues["fanout"]],
        env=env,
        stop_when=completed,
        on_ready=start,
        max_seconds=1800,
        poll_seconds=0.1,
    )
    summary = fanouts.summary(change["change_id"]) or {}
    if not done:
        raise SystemExit(f"{instances} instance(s): the fan-out did not complete: {summary}")
    counts = providers.counts()
    per_recipient: Counter[str] = Counter()
    for kind in ("ses", "sns", "webhook"):
        per_recipient.update(counts["recipients"].get(kind, {}))
    accepted, throttled = counts["accepted"], counts["throttled"]
    errors = [sample for report in run.reports for sample in report.error_samples]
    if errors:
        print(f"  {len(errors)} error sample(s) from the instances, the first: {errors[0].splitlines()[-1]}")
    return Measured(
        instances=instances,
        deliveries=int(summary.get("sent", 0)) + int(summary.get("retrying", 0)),
        seconds=done[0] - run.started,
        emails=accepted.get("ses", 0),
        sms=accepted.get("sns", 0),
        webhooks=accepted.get("webhook", 0),
        throttled=throttled.get("ses", 0) + throttled.get("sns", 0),
        duplicates=sum(n - 1 for n in per_recipient.values() if n > 1),
        peak_email_per_second=counts["peak_per_second"].get("ses", 0),
        items_read=int(summary.get("items_read", 0)),
        watchers=int(summary.get("watchers", 0)),
        pages=int(summary.get("pages_done", 0)),
    )


def create_stack(providers: Providers) -> tuple[dict[str, str], dict[str, Any]]:
    """Tables, queues and the archive on MiniStack; the function's environment and the change record."""
    create_tables(
        aws.client("dynamodb"),
        {"SubscribersTable": "subscribers", "DeliveriesTable": "deliveries", "SendRateTable": "send-rate"},
    )
    sqs = aws.client("sqs")
    queues = {
        name: sqs.create_queue(QueueName=f"bench-{name}", Attributes={"VisibilityTimeout": "720"})["QueueUrl"]
        for name in ("notify", "fanout", "delivery", "delivery-dlq")
    }
    aws.client("s3").create_bucket(Bucket=BUCKET)
    record = json.loads(json.loads(EVENT.read_text())["Records"][0]["body"])
    env = {
        "SUBSCRIBERS_TABLE": "subscribers",
        "DELIVERIES_TABLE": "deliveries",
        "SEND_RATE_TABLE": "send-rate",
        "ARCHIVE_BUCKET": BUCKET,
        "SENDER_EMAIL": SENDER,
        "PUBLIC_BASE_URL": "https://policywatch.example",
        "FANOUT_QUEUE_URL": queues["fanout"],
        "DELIVERY_QUEUE_URL": queues["delivery"],
        "DELIVERY_DLQ_URL": queues["delivery-dlq"],
        "WEBHOOK_HTTP_ALLOWLIST": providers.allowlist,
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "POWERTOOLS_METRICS_NAMESPACE": "bench",
        "POWERTOOLS_METRICS_DISABLED": "true",
        **providers.env(),
    }
    return env | {"_queues": json.dumps(queues)}, record


QUOTAS = ((14, 20), (100, 20), (500, 100), (1000, 200))  # (SES emails/s, SMS/s): a new account's, then raised


def project(measured: list[Measured], in_flight: int) -> list[str]:
    """Projected time for a platform of each size at each account quota, as deployed.

    An instance's rate as deployed is one instance's rate measured here, per delivery in flight,
    times the deployed 16 in flight (a Lambda instance is bound by its sends' latency, not by
    another instance's CPU); FanOutConcurrency is one instance per 20 emails a second of quota
    (docs/operations.md).
    """
    one = next(m for m in measured if m.instances == 1)
    email_share, sms_share = one.emails / one.deliveries, one.sms / one.deliveries  # of all deliveries
    per_instance = one.rate / in_flight * DEPLOYED_IN_FLIGHT
    per_subscriber = one.deliveries / one.watchers
    lines = [
        f"projected: {per_subscriber:.2f} deliveries per subscriber ({email_share:.0%} email, {sms_share:.0%} SMS), "
        f"sends at 90% of the quota, {per_instance:,.0f} deliveries/s per instance as deployed, "
        "FanOutConcurrency one per 20 emails/s of quota:"
    ]
    head = f"  {'SES/s':>6} {'SMS/s':>6} {'instances':>9} {'deliveries/s':>13}  {'bound by':<10}"
    lines.append(head + "".join(f"{n:>12,}" for n in PROJECTED))
    for ses, sms in QUOTAS:
        instances = max(2, ses // 20)
        bounds = {
            "instances": per_instance * instances,
            "SES quota": ses * 0.9 / email_share,
            "SMS quota": sms * 0.9 / sms_share if sms_share else float("inf"),
        }
        bound = min(bounds, key=lambda name: bounds[name])
        rate = bounds[bound]
        times = "".join(f"{_duration(n * per_subscriber / rate):>12}" for n in PROJECTED)
        lines.append(f"  {ses:>6} {sms:>6} {instances:>9} {rate:>13,.0f}  {bound:<10}{times}")
    return lines


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=2_000)
    parser.add_argument("--instances", default="1,4,16", help="instance counts to measure, comma-separated")
    parser.add_argument("--ses-rate", type=int, default=50, help="the fake account's SES quota, emails a second")
    parser.add_argument("--sms-rate", type=int, default=20, help="the fake account's SMS quota, a second")
    parser.add_argument(
        "--in-flight", type=int, default=1, help="deliveries in flight per instance (NOTIFY_CONCURRENCY)"
    )
    parser.add_argument("--page-size", type=int, default=50, help="FANOUT_PAGE_SIZE")
    args = parser.parse_args()
    counts = [int(n) for n in args.instances.split(",")]

    settings = Settings(ses_rate=args.ses_rate, ses_daily=None, sns_rate=args.sms_rate)
    with tempfile.TemporaryDirectory() as state, Providers(settings) as providers:
        ministack = MiniStack(free_port(), Path(state))
        ministack.start()
        try:
            os.environ.update(ministack.env() | {"AWS_DEFAULT_REGION": "us-east-1"})
            aws.reset()
            env, record = create_stack(providers)
            queues = json.loads(env.pop("_queues"))
            env |= {k: v for k, v in ministack.env().items() if k.startswith("AWS_")}
            env |= {"NOTIFY_CONCURRENCY": str(args.in_flight), "FANOUT_PAGE_SIZE": str(args.page_size)}
            seed("anthropic", args.subscribers, providers, "a")
            seed("openai", 500, providers, "o")
            print(
                f"{args.subscribers:,} subscribers of the changed platform (+500 of another); fake SES quota "
                f"{args.ses_rate}/s, SMS {args.sms_rate}/s; {args.in_flight} in flight per instance, pages of {args.page_size}"
            )
            measured = []
            for instances in counts:
                result = fan_out(instances, record, queues, env, providers)
                measured.append(result)
                print(
                    f"{instances:>3} instance(s): {result.deliveries:,} deliveries in {result.seconds:.1f} s = "
                    f"{result.rate:,.0f}/s; {result.pages} pages; peak {result.peak_email_per_second} emails in a second "
                    f"(quota {args.ses_rate}); {result.throttled} throttled; {result.duplicates} duplicates; "
                    f"{result.items_read / max(result.watchers, 1):.2f} items read per subscriber"
                )
        finally:
            ministack.stop()
    base = measured[0].rate
    print("ratio against one instance: " + ", ".join(f"{m.instances}: {m.rate / base:.1f}x" for m in measured))
    for line in project(measured, args.in_flight):
        print(line)


if __name__ == "__main__":
    main()
