"""Hostile receivers and failing AWS calls against alert delivery (issue 11, findings 2, 4 and 10), on moto.

- ``notify-trickling-webhook``: a receiver that answers one byte a second, each inside the 3 s
  read timeout, for 100 s (the read timeout applied per read: the attempt lasted as long as
  the receiver liked).
- ``notify-fanout-monopoly``: one Professional subscriber with 16 such endpoints (stored behind
  the tier's back) and 41 other subscribers, in an invocation with 30 s left (the review's case:
  every worker held, 60.8 s, 9 subscribers never started).
- ``notify-retry-not-scheduled``: SES fails, then the SQS send that schedules the retry fails;
  the change comes back from its queue (the retry was lost: the redelivered change found the
  claim and sent nothing, the record said ``retrying`` forever).
- ``notify-stuck-sending``: a delivery claimed by a process that then died (nothing reported it).

``tests/integration/notify/test_webhook_channel.py``, ``test_notify.py``, ``test_delivery_faults.py`` and
``test_reconcile.py`` run the same inputs as regression tests.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from tests.helpers.webhooks import Trickler

ROOT = Path(__file__).resolve().parent.parent
EVENT = ROOT / "events" / "notify.json"  # the real Claude.ai training change (Open Terms Archive, ODC-By 1.0)
SENDER = "alerts@policywatch.bench"
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # a fixed, valid test secret


@contextlib.contextmanager
def _stack() -> Iterator[dict[str, str]]:
    """moto with the stack's subscribers and deliveries tables, the delivery queues and a verified sender."""
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_SERVICE_NAME": "policywatch",
        "POWERTOOLS_LOG_LEVEL": "CRITICAL",
    }.items():
        os.environ[name] = value
    os.environ.pop("AWS_ENDPOINT_URL", None)
    import boto3
    from moto import mock_aws

    from devstack.tables import create_tables
    from policywatch.storage import clients as aws

    with mock_aws():
        aws.reset()
        create_tables(
            boto3.client("dynamodb", region_name="us-east-1"),
            {"SubscribersTable": "subscribers", "DeliveriesTable": "deliveries"},
        )
        sqs = boto3.client("sqs", region_name="us-east-1")
        boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress=SENDER)
        yield {
            "queue": sqs.create_queue(QueueName="delivery")["QueueUrl"],
            "dlq": sqs.create_queue(QueueName="delivery-dlq")["QueueUrl"],
        }
        aws.reset()


def _change() -> dict:
    return json.loads(json.loads(EVENT.read_text())["Records"][0]["body"])


def _subscriber(email: str, tier_id: str, **options):
    from policywatch.storage.subscribers import Subscribers
    from policywatch.subscribers import new_subscriber

    made = new_subscriber(
        email=email, tier_id=tier_id, platforms=["anthropic"], known_platforms=["anthropic"], **options
    )
    return Subscribers("subscribers").add(replace(made, status="active"))


def _emails() -> list[str]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [m.destinations[0] for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages]


def _fail_once(service: str, operation: str, when=lambda params: True) -> None:
    """The next matching call fails as an outage would (botocore's before-parameter-build event)."""
    from botocore.exceptions import ClientError

    from policywatch.storage import clients as aws

    left = [1]

    def hook(params, **_):
        if left[0] and when(params):
            left[0] = 0
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, operation)

    aws.client(service).meta.events.register(f"before-parameter-build.{service}.{operation}", hook)


# ---------------------------------------------------------------- the cases


def trickling_webhook() -> str:
    from policywatch.notify.channels.webhook import WebhookError, send

    slow = Trickler("headers", every=1.0)  # 200 OK, then a header line one byte a second
    try:
        status = send(
            f"http://127.0.0.1:{slow.port}/hook",
            SECRET,
            "msg_bench",
            b'{"type":"policy.changed"}',
            allowlist=frozenset({f"127.0.0.1:{slow.port}"}),
            read_timeout=3.0,
        )
    except WebhookError as exc:
        return f"webhook error: {exc.reason}"
    return f"answered {status} after the whole trickle"


def fanout_monopoly() -> str:
    from policywatch.core.links import Links
    from policywatch.notify.dispatch import DeliveryOptions
    from policywatch.notify.fanout import UnfinishedFanOut, deliver_change
    from policywatch.notify.jobs import RetryQueue
    from policywatch.storage.deliveries import Deliveries
    from policywatch.storage.queues import Queue
    from policywatch.storage.subscribers import Subscribers
    from policywatch.subscribers import Endpoint

    slow = Trickler("headers", every=1.0)  # 200 OK, then a header line one byte a second
    with _stack() as queues:
        hostile = _subscriber("hostile@example.com", "professional")
        hooks = [Endpoint(f"wh_{i:02d}", f"http://127.0.0.1:{slow.port}/hook{i}", SECRET) for i in range(16)]
        Subscribers("subscribers").save(replace(hostile, webhooks=hooks), hostile)  # behind the tier's back
        for i in range(41):
            _subscriber(f"reader{i}@example.com", "watcher")
        options = DeliveryOptions(
            sender=SENDER,
            links=Links("https://policywatch.bench"),
            webhook_allowlist=frozenset({f"127.0.0.1:{slow.port}"}),
            webhook_read_timeout=3.0,
        )
        started = time.monotonic()
        try:
            fan_out = deliver_change(
                _change(),
                subscribers=Subscribers("subscribers"),
                deliveries=Deliveries("deliveries"),
                options=options,
                retries=RetryQueue(Queue(queues["queue"]), Queue(queues["dlq"])),
                deadline=started + 30,  # the invocation's time left
            )
            result = (
                f"sent {fan_out.sent}, retrying {fan_out.retrying}, handed over {getattr(fan_out, 'handed_over', 0)}"
            )
        except UnfinishedFanOut as exc:
            result = f"unfinished: {exc}"
        readers = sum(1 for to in _emails() if to.startswith("reader"))
        return (
            f"{time.monotonic() - started:.1f} s of a 30 s budget; {readers}/41 other subscribers alerted; "
            f"{slow.requests} slow attempts; {result}"
        )


def retry_not_scheduled() -> str:
    from policywatch.core.links import Links
    from policywatch.notify.dispatch import DeliveryOptions
    from policywatch.notify.fanout import deliver_change
    from policywatch.notify.jobs import RetryQueue
    from policywatch.storage.deliveries import Deliveries
    from policywatch.storage.queues import Queue
    from policywatch.storage.subscribers import Subscribers

    with _stack() as queues:
        _subscriber("watcher@example.com", "watcher")
        _fail_once("ses", "SendRawEmail")
        _fail_once("sqs", "SendMessage", lambda params: params["QueueUrl"] == queues["queue"])
        change = _change()
        for _ in range(2):  # the change fails, and its queue brings it back
            with contextlib.suppress(Exception):
                deliver_change(
                    change,
                    subscribers=Subscribers("subscribers"),
                    deliveries=Deliveries("deliveries"),
                    options=DeliveryOptions(sender=SENDER, links=Links("https://policywatch.bench")),
                    retries=RetryQueue(Queue(queues["queue"]), Queue(queues["dlq"])),
                )
        records = Deliveries("deliveries").for_change(change["change_id"])
        status = ", ".join(r["status"] for r in records) or "none"
        return f"{len(_emails())} email(s) after the change came back; record {status}"


def stuck_sending() -> str:
    from policywatch.storage.deliveries import Deliveries, DeliveryKey

    with _stack() as queues:
        change = _change()
        deliveries = Deliveries("deliveries")
        deliveries.claim(DeliveryKey(change["change_id"], "sub_1", "sms"))  # ... and the process died
        try:
            from datetime import timedelta

            from policywatch.core import clock
            from policywatch.notify.jobs import RetryQueue
            from policywatch.notify.reconcile import reconcile
            from policywatch.storage.queues import Queue
        except ImportError:
            status = deliveries.for_change(change["change_id"])[0]["status"]
            return f"no reconciler: the record stays {status}, and nothing reports it"
        run = reconcile(
            deliveries=deliveries,
            retries=RetryQueue(Queue(queues["queue"]), Queue(queues["dlq"])),
            now=clock.now() + timedelta(minutes=20),
        )
        status = deliveries.for_change(change["change_id"])[0]["status"]
        return f"reconciler: {run.stuck} stuck (the DeliveriesStuck metric), settled {status}"


CASES = [
    ("notify-trickling-webhook", trickling_webhook),
    ("notify-fanout-monopoly", fanout_monopoly),
    ("notify-retry-not-scheduled", retry_not_scheduled),
    ("notify-stuck-sending", stuck_sending),
]
