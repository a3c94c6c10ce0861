"""Notify, delivery retries and digest handlers against moto, with real local webhook receivers.

One real change (Claude.ai's privacy policy, 2025-08-28 -> 08-29) goes to subscribers of each
tier. Webhook requests are verified on the receiving side with the `standardwebhooks` library.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import replace

import boto3
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from devstack.events import sqs_event as lambda_event
from functions.notify import delivery_handler
from policywatch.core.links import Links
from policywatch.messages.render import alert_sms
from policywatch.notify.dispatch import DeliveryOptions
from policywatch.notify.fanout import DEADLINE_MARGIN_SECONDS, deliver_change
from policywatch.notify.jobs import RetryQueue
from policywatch.notify.settings import NotifySettings
from policywatch.storage.deliveries import Deliveries
from policywatch.storage.subscribers import Subscribers
from policywatch.subscribers import new_endpoint, new_subscriber
from tests.helpers.aws import REGION
from tests.helpers.changes import training_change
from tests.helpers.events import LambdaContext, sqs_event
from tests.helpers.notify import (
    PLATFORMS,
    dead_letters,
    deliveries,
    drain_delivery_queue,
    emails,
    endpoint,
    notify,
    subscribe,
    texts,
)
from tests.helpers.webhooks import Trickler, verifying


def public_dns(host, port, *args, **kwargs):
    """A resolver answering one public address for any name: what a receiver's name answered when registered."""
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))]


def busy_once(then):
    """A handler that answers 503 the first time, then hands over to ``then``."""
    calls = []

    def handle(request: Request) -> Response:
        calls.append(request)
        return Response("busy", status=503) if len(calls) == 1 else then(request)

    return handle


# ---------------------------------------------------------------- fan-out by tier


def test_one_change_reaches_each_tier_on_its_channels_exactly_once(stack, context, receiver):
    change = training_change(stack, context)["body"]
    received: list = []
    free = subscribe("free@example.com", "free")
    watcher = subscribe("watcher@example.com", "watcher", phone="+14155550100")
    pro_hook = endpoint(receiver, "/pro")
    pro = subscribe("pro@example.com", "professional", phone="+14155550101", webhooks=[pro_hook])
    filtered = subscribe(
        "filtered@example.com", "professional", phone="+14155550102", provisions=["dispute-resolution"]
    )
    subscribe("other@example.com", "watcher", ["openai"], phone="+14155550103")
    Subscribers("subscribers").add(
        new_subscriber(
            email="pending@example.com", tier_id="watcher", platforms=["anthropic"], known_platforms=PLATFORMS
        )
    )
    receiver.expect_request("/pro", method="POST").respond_with_handler(verifying(pro_hook.secret, received))

    event = sqs_event(change)
    assert notify(stack, context, event) == {"batchItemFailures": []}
    assert notify(stack, context, event) == {"batchItemFailures": []}  # SNS/SQS redelivered it

    sent = emails()
    assert sorted(m["to"][0] for m in sent) == ["pro@example.com", "watcher@example.com"]
    assert sorted(texts()) == [
        ("+14155550100", texts_for(change)),
        ("+14155550101", texts_for(change)),
    ]
    assert len(received) == 1
    webhook = received[0]
    assert webhook["payload"]["type"] == "policy.changed"
    assert webhook["payload"]["data"]["change_id"] == change["change_id"]
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= {h.lower() for h in webhook["headers"]}

    by_recipient = deliveries(change["change_id"])
    assert set(by_recipient) == {
        f"{watcher.subscriber_id}#email",
        f"{watcher.subscriber_id}#sms",
        f"{pro.subscriber_id}#email",
        f"{pro.subscriber_id}#sms",
        f"{pro.subscriber_id}#{pro_hook.channel}",
    }
    assert all(d["status"] == "sent" and d["attempts"] == 1 for d in by_recipient.values())
    assert free.subscriber_id not in {d["subscriber_id"] for d in by_recipient.values()}
    assert filtered.subscriber_id not in {d["subscriber_id"] for d in by_recipient.values()}


def texts_for(change: dict) -> str:
    return alert_sms(change, Links("https://policywatch.test"))


def test_alert_emails_show_what_the_tier_includes_with_one_click_unsubscribe(stack, context):
    change = training_change(stack, context)["body"]
    watcher = subscribe("watcher@example.com", "watcher")
    pro = subscribe("pro@example.com", "professional")
    notify(stack, context, sqs_event(change))
    by_to = {m["to"][0]: m for m in emails()}
    for subscriber in (watcher, pro):
        mail = by_to[subscriber.email]
        unsubscribe = (
            f"https://policywatch.test/unsubscribe?s={subscriber.subscriber_id}&t={subscriber.unsubscribe_token}"
        )
        assert mail["mime"]["List-Unsubscribe"] == f"<{unsubscribe}>"
        assert mail["mime"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert unsubscribe in mail["text"] and unsubscribe.replace("&", "&amp;") in mail["html"]
        assert "We [-will not-] {+may+} use your Inputs" in mail["text"]
    sha = change["evidence"]["current"]["sha256"]
    assert "GDPR" in by_to[pro.email]["text"] and sha in by_to[pro.email]["text"]
    assert "GDPR" not in by_to[watcher.email]["text"] and sha not in by_to[watcher.email]["text"]


def test_sms_goes_only_for_medium_or_high_unless_the_subscriber_asks(stack, context):
    change = {**training_change(stack, context)["body"], "severity": "low"}
    subscribe("default@example.com", "watcher", phone="+14155550100")
    subscribe("all@example.com", "watcher", phone="+14155550101", sms_min_severity="low")
    notify(stack, context, sqs_event(change))
    assert [phone for phone, _ in texts()] == ["+14155550101"]
    assert len(emails()) == 2


def test_a_downgraded_subscriber_receives_only_what_the_tier_now_allows(stack, context, receiver):
    change = training_change(stack, context)["body"]
    hook = endpoint(receiver, "/hook")
    pro = subscribe("pro@example.com", "professional", phone="+14155550100", webhooks=[hook])
    table = boto3.resource("dynamodb", region_name=REGION).Table("subscribers")
    for item in ("profile", "watch#anthropic"):  # billing downgraded them behind our back
        table.update_item(
            Key={"subscriber_id": pro.subscriber_id, "item": item}, AttributeUpdates={"tier": {"Value": "watcher"}}
        )
    notify(stack, context, sqs_event(change))
    assert receiver.log == []
    assert [phone for phone, _ in texts()] == ["+14155550100"]
    (mail,) = emails()
    assert "GDPR" not in mail["text"]


# ---------------------------------------------------------------- failures and retries


def _refuse_with(kind: str, receiver: HTTPServer) -> None:
    """Make the webhook at /bad fail in one way."""
    if kind == "500":
        receiver.expect_request("/bad").respond_with_data("boom", status=500)
    elif kind == "timeout":
        receiver.expect_request("/bad").respond_with_handler(lambda request: time.sleep(1.0) or Response("late"))
    elif kind == "redirect":
        receiver.expect_request("/bad").respond_with_data(
            "", status=302, headers={"Location": receiver.url_for("/elsewhere")}
        )


@pytest.mark.parametrize("kind", ["500", "timeout", "redirect", "private address", "DNS answer turned private"])
def test_a_failing_webhook_retries_then_dead_letters_while_others_are_served(
    stack, context, receiver, monkeypatch, kind
):
    change = training_change(stack, context)["body"]
    good_received: list = []
    good = endpoint(receiver, "/good")
    receiver.expect_request("/good", method="POST").respond_with_handler(verifying(good.secret, good_received))
    if kind == "private address":
        # Registered when its name answered a public address (written now, it would be refused).
        bad = new_endpoint(f"https://internal.policywatch.test:{receiver.port}/hook", getaddrinfo=public_dns)
        answers = {"internal.policywatch.test": ["10.0.0.7"]}
    elif kind == "DNS answer turned private":
        # It was a public host when registered; its name now answers the cloud metadata address.
        bad = new_endpoint(f"https://hooks.policywatch.test:{receiver.port}/hook", getaddrinfo=public_dns)
        answers = {"hooks.policywatch.test": ["169.254.169.254"]}
    else:
        _refuse_with(kind, receiver)
        bad = endpoint(receiver, "/bad")
        answers = {}
    real = socket.getaddrinfo

    def resolver(host, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, args[0] if args else 0)) for a in answers[host]]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    failing = subscribe("failing@example.com", "professional", webhooks=[bad])
    served = subscribe("served@example.com", "professional", webhooks=[good])

    assert notify(stack, context, sqs_event(change)) == {"batchItemFailures": []}
    assert len(good_received) == 1 and len(emails()) == 2  # nobody waits for the failing endpoint
    bad_key = f"{failing.subscriber_id}#{bad.channel}"
    assert deliveries(change["change_id"])[bad_key]["status"] == "retrying"

    drain_delivery_queue(stack, context)

    record = deliveries(change["change_id"])[bad_key]
    assert record["status"] == "failed" and record["attempts"] == 3
    expected = {
        "500": "answered 500",
        "timeout": "timed out",
        "redirect": "redirect",
        "private address": "10.0.0.7, a private address",
        "DNS answer turned private": "169.254.169.254, a link-local address",
    }[kind]
    assert expected in record["last_error"]
    (dead,) = dead_letters(stack)
    assert json.loads(dead["Body"])["channel"] == bad.channel
    assert expected in dead["MessageAttributes"]["reason"]["StringValue"]
    assert deliveries(change["change_id"])[f"{served.subscriber_id}#{good.channel}"]["status"] == "sent"
    assert len(good_received) == 1  # served once, never again
    assert not any(entry[0].path == "/elsewhere" for entry in receiver.log)  # redirects are not followed


def test_a_webhook_that_recovers_is_delivered_by_the_retry_with_the_same_webhook_id(stack, context, receiver):
    change = training_change(stack, context)["body"]
    received: list = []
    hook = endpoint(receiver, "/flaky")
    receiver.expect_request("/flaky").respond_with_handler(busy_once(verifying(hook.secret, received)))
    pro = subscribe("pro@example.com", "professional", webhooks=[hook])
    notify(stack, context, sqs_event(change))
    first_id = receiver.log[0][0].headers["webhook-id"]
    drain_delivery_queue(stack, context)
    assert len(received) == 1 and received[0]["headers"]["Webhook-Id"] == first_id
    record = deliveries(change["change_id"])[f"{pro.subscriber_id}#{hook.channel}"]
    assert record["status"] == "sent" and record["attempts"] == 2 and record["detail"] == "answered 204"
    assert dead_letters(stack) == []


def test_a_dead_letter_moved_back_to_the_queue_gets_a_fresh_round_of_attempts(stack, context, receiver):
    change = training_change(stack, context)["body"]
    received: list = []
    hook = endpoint(receiver, "/down")
    receiver.expect_request("/down").respond_with_data("down", status=500)
    pro = subscribe("pro@example.com", "professional", webhooks=[hook])
    notify(stack, context, sqs_event(change))
    drain_delivery_queue(stack, context)
    (dead,) = dead_letters(stack)
    key = f"{pro.subscriber_id}#{hook.channel}"
    assert deliveries(change["change_id"])[key]["status"] == "failed"

    receiver.clear()  # the subscriber fixed their endpoint; the operator moves the job back
    receiver.expect_request("/down").respond_with_handler(verifying(hook.secret, received))
    stack.sqs.send_message(QueueUrl=stack.delivery_queue_url, MessageBody=dead["Body"])
    drain_delivery_queue(stack, context)
    assert len(received) == 1 and deliveries(change["change_id"])[key]["status"] == "sent"
    stack.sqs.send_message(QueueUrl=stack.delivery_queue_url, MessageBody=dead["Body"])  # moved twice by mistake
    drain_delivery_queue(stack, context)
    assert len(received) == 1


def test_a_retry_job_delivered_twice_sends_once_and_a_subscriber_who_left_is_not_retried(stack, context, receiver):
    change = training_change(stack, context)["body"]
    received: list = []
    hook = endpoint(receiver, "/flaky")
    receiver.expect_request("/flaky").respond_with_handler(busy_once(verifying(hook.secret, received)))
    pro = subscribe("pro@example.com", "professional", webhooks=[hook])
    leaving_hook = endpoint(receiver, "/leaving")
    receiver.expect_request("/leaving").respond_with_data("down", status=500)
    leaving = subscribe("leaving@example.com", "professional", webhooks=[leaving_hook])
    notify(stack, context, sqs_event(change))
    Subscribers("subscribers").set_status(leaving, "unsubscribed")

    (job, other) = sorted(
        stack.sqs.receive_message(QueueUrl=stack.delivery_queue_url, MaxNumberOfMessages=10, AttributeNames=["All"])[
            "Messages"
        ],
        key=lambda m: json.loads(m["Body"])["subscriber_id"] != pro.subscriber_id,
    )
    for _ in range(2):  # SQS delivered the same receive twice
        delivery_handler.handler(lambda_event([job]), context)
    delivery_handler.handler(lambda_event([other]), context)
    assert len(received) == 1
    records = deliveries(change["change_id"])
    assert records[f"{pro.subscriber_id}#{hook.channel}"]["status"] == "sent"
    assert records[f"{leaving.subscriber_id}#{leaving_hook.channel}"]["status"] == "cancelled"


def test_a_message_that_is_not_a_change_event_sends_nothing(stack, context):
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    subscribe("ana@example.com", "watcher", phone="+14155550100")
    with pytest.raises(BatchProcessingError, match="change event abc lacks platform_name, document_type"):
        notify(stack, context, sqs_event({"change_id": "abc", "platform": "anthropic", "alert": True}))
    assert emails() == [] and texts() == []


def test_a_message_that_is_not_a_delivery_job_goes_straight_to_the_dead_letter_queue(stack, context):
    stack.sqs.send_message(QueueUrl=stack.delivery_queue_url, MessageBody='{"change_id": "abc"}')
    drain_delivery_queue(stack, context)  # acknowledged at once: no retry can mend it
    (dead,) = dead_letters(stack)
    assert dead["Body"] == '{"change_id": "abc"}'
    assert "not a delivery job" in dead["MessageAttributes"]["reason"]["StringValue"]
    assert emails() == [] and texts() == []


# ---------------------------------------------------------------- nobody monopolises the fan-out


class ShortContext(LambdaContext):
    """An invocation with 30 s left, as the review measured it."""

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.mark.timeout(60)  # before: 16 trickling endpoints held every worker for their whole minute
def test_one_subscriber_with_many_slow_endpoints_does_not_hold_up_the_others(stack, context, monkeypatch):
    change = training_change(stack, context)["body"]
    slow = Trickler("headers")
    monkeypatch.setenv("WEBHOOK_HTTP_ALLOWLIST", f"127.0.0.1:{slow.port}")
    monkeypatch.setenv("WEBHOOK_DEADLINE_MS", "1000")
    allowlist = frozenset({f"127.0.0.1:{slow.port}"})
    hostile = subscribe("hostile@example.com", "professional")
    hooks = [new_endpoint(slow.url(), allowlist=allowlist) for _ in range(16)]
    Subscribers("subscribers").save(replace(hostile, webhooks=hooks), hostile)  # beyond the tier, behind our back
    honest = [subscribe(f"reader{i}@example.com", "watcher") for i in range(41)]

    started = time.monotonic()
    assert notify(stack, ShortContext(), sqs_event(change)) == {"batchItemFailures": []}
    assert time.monotonic() - started < 20  # the deliveries, and 1 s per slow attempt, a few at a time
    slow.close()

    assert sorted(m["to"][0] for m in emails()) == sorted([hostile.email] + [s.email for s in honest])
    assert slow.requests == 5  # the Professional tier's endpoints, no more
    records = deliveries(change["change_id"])
    retrying = [r for r in records.values() if r["channel"].startswith("webhook:")]
    assert len(retrying) == 5 and {r["status"] for r in retrying} == {"retrying"}
    assert all("timed out after 1 s (the whole attempt)" in r["last_error"] for r in retrying)


@pytest.mark.timeout(60)
def test_deliveries_not_started_before_the_deadline_are_handed_to_the_delivery_queue(
    stack, context, receiver, monkeypatch
):
    monkeypatch.setenv("WEBHOOK_READ_TIMEOUT_MS", "5000")  # slow, not failing: each endpoint answers once
    change = training_change(stack, context)["body"]
    received: list = []
    hooks = []
    for i in range(8):
        hook = endpoint(receiver, f"/hook{i}")
        receiver.expect_request(f"/hook{i}").respond_with_handler(slowly(verifying(hook.secret, received)))
        hooks.append(hook)
    pros = [subscribe(f"pro{i}@example.com", "professional", webhooks=[hook]) for i, hook in enumerate(hooks)]
    config = NotifySettings.from_env()

    fan_out = deliver_change(
        change,
        subscribers=Subscribers("subscribers"),
        deliveries=Deliveries("deliveries"),
        options=DeliveryOptions.from_settings(config),
        retries=RetryQueue.from_settings(config),
        concurrency=2,
        deadline=time.monotonic() + DEADLINE_MARGIN_SECONDS + 1.0,  # time for a few deliveries, not sixteen
    )
    assert fan_out.handed_over > 0 and fan_out.sent + fan_out.handed_over == 16
    assert fan_out.not_started == fan_out.errors == 0
    queued = [r for r in deliveries(change["change_id"]).values() if r["status"] == "queued"]
    assert len(queued) == fan_out.handed_over and {r["attempts"] for r in queued} == {0}

    drain_delivery_queue(stack, context)
    assert sorted(m["to"][0] for m in emails()) == sorted(p.email for p in pros)
    assert len(received) == 8 and len(receiver.log) == 8  # each endpoint once
    records = deliveries(change["change_id"]).values()
    assert {r["status"] for r in records} == {"sent"}
    assert {int(r["attempts"]) for r in records if r["recipient"] in {q["recipient"] for q in queued}} == {1}


def slowly(then):
    """A receiver handler that takes 0.4 s, then hands over to ``then``."""

    def handle(request: Request) -> Response:
        time.sleep(0.4)
        return then(request)

    return handle
