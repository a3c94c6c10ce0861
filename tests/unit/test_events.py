"""The sample events in events/ are what the handlers expect (sam local invoke -e events/...)."""

import json
from pathlib import Path

from aws_lambda_powertools.utilities.data_classes import S3Event, SQSEvent

from policywatch.catalog import Document
from policywatch.channels.render import alert_email, alert_sms

EVENTS = Path(__file__).resolve().parents[2] / "events"


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
    subject, text, html = alert_email(change)
    assert subject == "[policywatch] Anthropic (Claude) changed its Privacy Policy"
    assert "We may use your Inputs and Outputs" in text and "We may use your Inputs and Outputs" in html
    assert len(alert_sms(change)) <= 320


def test_schedule_events():
    assert _load("sweep.json")["source"] == _load("digest.json")["source"] == "aws.scheduler"


def test_html_email_escapes_policy_text():
    change = json.loads(next(SQSEvent(_load("notify.json")).records).body)
    change["blocks"][0]["after"] = "<script>alert(1)</script>"
    assert "<script>" not in alert_email(change)[2]


def test_notify_event_follows_the_change_schema():
    from policywatch.changes import validate

    change = json.loads(next(SQSEvent(_load("notify.json")).records).body)
    validate(change)
    assert change["schema_version"] == "2" and change["severity"] == "high"
