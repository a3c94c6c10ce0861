"""Subscribers, what reached them, and the delivery stage driven as AWS drives it (moto's SES and SNS)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from email import message_from_string
from email.policy import default as default_policy

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends
from pytest_httpserver import HTTPServer

from devstack.events import sqs_event as lambda_event
from functions.notify import delivery_handler, digest_handler, notify_handler
from policywatch.analysis.provisions import taxonomy
from policywatch.core import clock
from policywatch.notify.jobs import RetryQueue
from policywatch.notify.reconcile import Reconciliation, reconcile
from policywatch.storage.deliveries import Deliveries
from policywatch.storage.fanouts import FanOuts
from policywatch.storage.queues import Queue
from policywatch.storage.subscribers import Subscribers
from policywatch.subscribers import new_endpoint, new_subscriber
from tests.helpers.aws import REGION

PLATFORMS = ["anthropic", "openai"]


def subscribe(email, tier, platforms=("anthropic",), **options):
    """An active subscriber (confirmation is the CLI's and the web's business, tested elsewhere)."""
    known = taxonomy().categories
    subscriber = replace(
        new_subscriber(
            email=email, tier_id=tier, platforms=platforms, known_platforms=PLATFORMS, known_provisions=known, **options
        ),
        status="active",
    )
    return Subscribers("subscribers").add(subscriber)


def endpoint(receiver: HTTPServer, path: str):
    return new_endpoint(receiver.url_for(path), allowlist=frozenset({f"127.0.0.1:{receiver.port}"}))


def emails() -> list[dict]:
    """Raw messages SES accepted, parsed: recipient, headers, text and HTML parts."""
    parsed = []
    for message in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages:
        mime = message_from_string(message.raw_data, policy=default_policy)
        parsed.append(
            {
                "to": message.destinations,
                "mime": mime,
                "text": mime.get_body(("plain",)).get_content(),
                "html": mime.get_body(("html",)).get_content(),
            }
        )
    return parsed


def texts() -> list[tuple[str, str]]:
    return [(phone, text) for phone, text, *_ in sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages.values()]


def deliveries(change_id: str) -> dict[str, dict]:
    return {d["recipient"]: d for d in Deliveries("deliveries").for_change(change_id)}


def drain_delivery_queue(stack, context, rounds: int = 10) -> None:
    """Run the delivery function over the delivery queue as the Lambda event source mapping would."""
    sqs = stack.sqs
    for _ in range(rounds):
        messages = sqs.receive_message(
            QueueUrl=stack.delivery_queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return
        event = lambda_event(messages)
        failed = {f["itemIdentifier"] for f in delivery_handler.handler(event, context)["batchItemFailures"]}
        for m in messages:
            if m["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=stack.delivery_queue_url, ReceiptHandle=m["ReceiptHandle"])
    raise AssertionError("the delivery queue did not empty")


def notify(stack, context, event: dict) -> dict:
    """NotifyFunction on ``event`` (change events), then on each page job that leads to, one at a time,
    as its two event sources would; the batch item failures of them all.

    A page that fails raises (BatchProcessingError, as a batch of one does) and is taken off the
    queue: the change event run again puts its first page back, as SQS would bring it back.
    """
    failures = list(notify_handler.handler(event, context)["batchItemFailures"])
    drain_fanout_queue(stack, context, failures)
    return {"batchItemFailures": failures}


def drain_fanout_queue(stack, context, failures: list | None = None, rounds: int = 200) -> int:
    """Run NotifyFunction over the fan-out queue's page jobs, one per invocation; the pages run."""
    for run in range(rounds):
        messages = stack.sqs.receive_message(
            QueueUrl=stack.fanout_queue_url, MaxNumberOfMessages=1, AttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return run
        try:
            response = notify_handler.handler(lambda_event(messages), context)
        finally:
            stack.sqs.delete_message(QueueUrl=stack.fanout_queue_url, ReceiptHandle=messages[0]["ReceiptHandle"])
        if failures is not None:
            failures += response["batchItemFailures"]
    raise AssertionError("the fan-out queue did not empty")


def digest(stack, context, event: dict | None = None) -> dict:
    """DigestFunction on its schedule's ``event``, then its pages; the week's fan-out summary with the plan."""
    planned = digest_handler.handler(event or {}, context)
    drain_fanout_queue(stack, context)
    summary = FanOuts("deliveries").summary(planned["fanout"]) or {}
    return planned | {key: int(summary.get(key, 0)) for key in ("sent", "duplicates", "failed", "pages_done")}


def dead_letters(stack) -> list[dict]:
    return stack.sqs.receive_message(
        QueueUrl=stack.delivery_dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", [])


def reconciled(stack, minutes: float = 20, **options) -> Reconciliation:
    """One reconciler run, ``minutes`` from now."""
    return reconcile(
        deliveries=Deliveries("deliveries"),
        retries=RetryQueue(Queue(stack.delivery_queue_url), Queue(stack.delivery_dlq_url)),
        now=clock.now() + timedelta(minutes=minutes),
        **options,
    )
