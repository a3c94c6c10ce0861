"""Benchmark: fan one change out to 10,000 subscribers, 1,000 of them with webhooks answering in 100 ms.

Target (issue 5): deliveries per second of the fan-out as deployed (NOTIFY_CONCURRENCY
deliveries in flight in one NotifyFunction invocation) against delivering one after
another, measured in one run; and the DynamoDB items read per change equal to the platform's
subscribers (the by-platform index, never a scan), printed.

Everything runs through the real code path (`policywatch.notify.fanout.deliver_change`: entitlement,
rendering, the conditional claim, SES / SNS / the signed webhook, the delivery record) against
a MiniStack of the benchmark's own (DynamoDB, SES, SNS in a separate process, as AWS is) and a
webhook receiver on loopback that answers every request after 100 ms.

The subscribers: 9,000 Watchers by email (3,000 of them with a phone, so SMS too) and 1,000
Professionals by email and webhook, all watching Anthropic; plus 2,000 subscribers of OpenAI,
who must not be read. One after another is measured on a tenth of the subscribers with the
same mix (a full serial run would take minutes and measures the same per-delivery cost).

    .venv/bin/python -m bench.fanout [--subscribers 10000] [--webhooks 1000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from devstack.ministack import MiniStack, free_port
from devstack.tables import create_tables
from policywatch.core.links import Links
from policywatch.notify.dispatch import DeliveryOptions
from policywatch.notify.fanout import deliver_change
from policywatch.notify.jobs import RetryQueue
from policywatch.storage import clients as aws
from policywatch.storage.deliveries import Deliveries
from policywatch.storage.queues import Queue
from policywatch.storage.subscribers import Subscribers
from policywatch.subscribers import Endpoint, Subscriber
from policywatch.subscribers.secrets import new_secret

ROOT = Path(__file__).resolve().parent.parent
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "POWERTOOLS_SERVICE_NAME": "policywatch",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }
)


SENDER = "alerts@policywatch.bench"
EVENT = ROOT / "events" / "notify.json"  # the real Claude.ai training change (Open Terms Archive, ODC-By 1.0)


class SlowReceiver(BaseHTTPRequestHandler):
    delay = 0.1
    protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

    def do_POST(self) -> None:  # noqa: N802 - the base class's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(self.delay)
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def create_stores() -> None:
    create_tables(aws.client("dynamodb"), {"SubscribersTable": "subscribers", "DeliveriesTable": "deliveries"})
    aws.client("ses").verify_email_identity(EmailAddress=SENDER)


def seed(platform: str, count: int, webhooks: int, receiver: str, prefix: str) -> int:
    """Write ``count`` active subscribers of ``platform`` (profile and watch item each); returns their number."""
    secret = new_secret()
    items = []
    for n in range(count):
        pro = n < webhooks
        subscriber = Subscriber(
            subscriber_id=f"sub_{prefix}{n:06d}",
            email=f"reader{n}@{prefix}.example.com",
            tier="professional" if pro else "watcher",
            platforms=[platform],
            phone=f"+1415555{n % 10000:04d}" if not pro and n % 3 == 0 else None,
            webhooks=[Endpoint(f"wh_{n:06d}", f"{receiver}/hooks/{n}", secret)] if pro else [],
            status="active",
            unsubscribe_token=f"token{n}",
            version=1,
        )
        data = subscriber.to_item()
        items += [{**data, "item": "profile"}, {**data, "item": f"watch#{platform}", "platform": platform}]
    db = aws.client("dynamodb")
    for start in range(0, len(items), 25):
        requests = [{"PutRequest": {"Item": aws.to_dynamodb(i)}} for i in items[start : start + 25]]
        while requests:
            left = db.batch_write_item(RequestItems={"subscribers": requests}).get("UnprocessedItems", {})
            requests = left.get("subscribers", [])
    return count


def fan_out(change: dict, concurrency: int, options: DeliveryOptions) -> tuple[int, float, int]:
    """(deliveries sent, seconds, items read) of one fan-out of ``change``."""
    subscribers = Subscribers("subscribers")
    start = time.perf_counter()
    result = deliver_change(
        change,
        subscribers=subscribers,
        deliveries=Deliveries("deliveries"),
        options=options,
        retries=RetryQueue(
            Queue("unused"), Queue("unused")
        ),  # nothing fails here; a retry would show in result.retrying
        concurrency=concurrency,
    )
    seconds = time.perf_counter() - start
    if result.retrying or result.not_entitled:
        raise SystemExit(f"unexpected: {result}")
    return result.sent, seconds, subscribers.items_read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--webhooks", type=int, default=1_000)
    parser.add_argument("--concurrency", type=int, default=16, help="NOTIFY_CONCURRENCY (template default 16)")
    parser.add_argument("--delay", type=float, default=0.1, help="the receiver's answer time, seconds")
    args = parser.parse_args()

    SlowReceiver.delay = args.delay
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowReceiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver = f"http://127.0.0.1:{server.server_address[1]}"

    with tempfile.TemporaryDirectory() as state:
        ministack = MiniStack(free_port(), Path(state))
        ministack.start()
        try:
            os.environ["AWS_ENDPOINT_URL"] = ministack.endpoint
            aws.reset()
            create_stores()
            change = json.loads(json.loads(EVENT.read_text())["Records"][0]["body"])
            options = DeliveryOptions(
                sender=SENDER,
                links=Links("https://policywatch.example"),
                webhook_allowlist=frozenset({f"127.0.0.1:{server.server_address[1]}"}),
            )
            tenth = args.subscribers // 10
            seed("anthropic", args.subscribers, args.webhooks, receiver, "a")
            seed("bench-serial", tenth, args.webhooks // 10, receiver, "s")
            seed("openai", 2_000, 0, receiver, "o")
            print(
                f"seeded {args.subscribers:,} subscribers of the changed platform, {tenth:,} for the serial run, 2,000 others"
            )

            sent, seconds, read = fan_out(change, args.concurrency, options)
            serial_change = {**change, "change_id": change["change_id"] + "-serial", "platform": "bench-serial"}
            serial_sent, serial_seconds, _ = fan_out(serial_change, 1, options)
        finally:
            ministack.stop()
            server.shutdown()

    rate, serial_rate = sent / seconds, serial_sent / serial_seconds
    print(f"fan-out, {args.concurrency} in flight : {sent:,} deliveries in {seconds:.1f} s = {rate:,.0f} deliveries/s")
    print(
        f"one after another   : {serial_sent:,} deliveries in {serial_seconds:.1f} s = {serial_rate:,.0f} deliveries/s"
    )
    print(f"ratio               : {rate / serial_rate:.1f}x")
    print(f"DynamoDB items read : {read:,} for {args.subscribers:,} subscribers of the platform (12,000+ in the table)")


if __name__ == "__main__":
    main()
