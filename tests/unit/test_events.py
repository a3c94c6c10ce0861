"""The sample events in events/ are what the handlers expect (sam local invoke -e events/...)."""

import json

from aws_lambda_powertools.utilities.data_classes import LambdaFunctionUrlEvent, S3Event, SQSEvent

from policywatch.catalog import Document
from policywatch.core.links import Links
from policywatch.messages.render import alert_email, alert_sms
from policywatch.messages.sms import segments
from policywatch.notify.jobs import parse_job
from policywatch.subscribers.tiers import tier
from tests.helpers.paths import EVENTS


def _load(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def test_fetch_event_carries_a_document_job():
    record = next(SQSEvent(_load("fetch.json")).records)
    document = Document.from_dict(json.loads(record.body))
    assert document.key == "anthropic/privacy-policy"


def test_diff_event_names_a_version():
    record = next(S3Event(_load("diff.json")).records)
    assert record.s3.get_object.key.startswith("versions/anthropic/privacy-policy/")


def test_notify_event_carries_a_renderable_change():
    change = json.loads(next(SQSEvent(_load("notify.json")).records).body)
    email = alert_email(change, tier("professional"), Links("https://policywatch.example")).for_recipient(None)
    assert email.subject.startswith("[policywatch] HIGH Anthropic (Claude) changed its Privacy Policy")
    assert "We [-will not-] {+may+} use your Inputs" in email.text
    assert segments(alert_sms(change, Links("https://policywatch.example"))) <= 2


def test_delivery_event_carries_a_retry_job():
    record = next(SQSEvent(_load("delivery.json")).records)
    key, record_key = parse_job(record.body)
    assert key.channel.startswith("webhook:") and record_key.startswith("changes/anthropic/privacy-policy/")
    assert record.attributes.approximate_receive_count == "1"


def test_web_event_is_a_function_url_request():
    event = LambdaFunctionUrlEvent(_load("web.json"))
    assert event.request_context.http.method == "POST" and event.path == "/unsubscribe"
    assert set(event.query_string_parameters) == {"s", "t"}


def test_schedule_events():
    assert {_load(name)["source"] for name in ("sweep.json", "digest.json", "reconcile.json")} == {"aws.scheduler"}


def test_notify_event_follows_the_change_schema():
    from policywatch.core.events import validate

    change = json.loads(next(SQSEvent(_load("notify.json")).records).body)
    validate(change)
    assert change["schema_version"] == "2" and change["severity"] == "high"
