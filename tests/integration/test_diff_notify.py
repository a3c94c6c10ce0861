"""Diff, notify and digest handlers against moto: one change from two versions to subscribers."""

import json
from datetime import UTC, datetime, timedelta

import boto3
import diff_handler
import digest_handler
import notify_handler
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from policywatch.archive import sha256, stamp
from policywatch.extract import extract, fingerprint
from policywatch.subscribers import Subscribers, new_subscriber
from tests.conftest import corpus_page
from tests.integration.conftest import REGION, s3_event, sqs_event

PLATFORMS = ["anthropic", "openai"]


def _put_version(stack, text: str, when: datetime) -> str:
    key = f"versions/anthropic/privacy-policy/{stamp(when)}.md"
    body = text.encode()
    stack.s3.put_object(
        Bucket=stack.bucket,
        Key=key,
        Body=body,
        Metadata={
            "sha256": sha256(body),
            "fingerprint": fingerprint(text),
            "fetched-at": when.isoformat(),
            "source-url": "https://www.anthropic.com/legal/privacy",
            "document-type": "Privacy Policy",
        },
    )
    return key


def _claude(date: str) -> str:
    return extract(corpus_page(f"claude-ai/privacy-policy/{date}.html"), ["main"])


T0 = datetime.now(UTC) - timedelta(days=1)  # recent: the digest looks back a week


def _training_change(stack, context) -> dict:
    _put_version(stack, _claude("2025-08-28"), T0)
    key = _put_version(stack, _claude("2025-08-29"), T0 + timedelta(hours=12))
    diff_handler.handler(s3_event(stack.bucket, key), context)
    published = stack.published_changes()
    assert len(published) == 1
    return published[0]


def _emails():
    return ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages


def _sms() -> list[tuple[str, str]]:
    return list(sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages.values())


def test_diff_records_and_publishes_the_change_once(stack, context):
    event = _training_change(stack, context)
    change = event["body"]
    assert change["schema_version"] == "2" and change["alert"] is True and change["kind"] == "substantive"
    assert change["platform"] == "anthropic" and change["document_type"] == "Privacy Policy"
    assert change["severity"] == "high" and change["effective_date"] == "2025-09-28"
    attributes = {a: v["StringValue"] for a, v in event["attributes"].items()}
    assert attributes.pop("categories") == json.dumps(change["categories"])
    assert {"model-training", "training-opt-out", "human-review"} <= set(change["categories"])
    assert attributes == {"platform": "anthropic", "document_type": "Privacy Policy", "severity": "high"}
    assert any("We will not use your Inputs or Outputs to train" in b["before"] for b in change["blocks"])
    record_key = change["record_key"]
    record = json.loads(stack.s3.get_object(Bucket=stack.bucket, Key=record_key)["Body"].read())
    assert record["change_id"] == change["change_id"]
    assert record["evidence"]["previous"]["sha256"] and record["evidence"]["current"]["source_url"]
    # The same S3 event delivered again publishes nothing new.
    version_key = record["evidence"]["current"]["key"]
    diff_handler.handler(s3_event(stack.bucket, version_key), context)
    assert stack.published_changes() == []


def test_first_version_and_cosmetic_changes_do_not_alert(stack, context):
    first = _put_version(stack, "# P\n\nWe don't sell data.", T0)
    assert diff_handler.handler(s3_event(stack.bucket, first), context) == {"changes": []}
    second = _put_version(stack, "# P\n\nWe don\u2019t sell data.", T0 + timedelta(hours=1))
    assert len(diff_handler.handler(s3_event(stack.bucket, second), context)["changes"]) == 1
    assert stack.published_changes() == []
    record = json.loads(stack.s3.get_object(Bucket=stack.bucket, Key=stack.keys("changes/")[0])["Body"].read())
    assert record["kind"] == "cosmetic" and record["alert"] is False


def _subscribe(email, tier, platforms, phone=None):
    sub = new_subscriber(email, tier, platforms, phone, PLATFORMS)
    Subscribers("subscribers").add(sub)
    return sub


def test_notify_alerts_watchers_by_tier_exactly_once(stack, context):
    change = _training_change(stack, context)["body"]
    watcher = _subscribe("ana@example.com", "watcher", ["anthropic"], "+14155550100")
    _subscribe("bob@example.com", "watcher", ["openai"], "+14155550101")  # other platform
    _subscribe("cy@example.com", "free", ["anthropic"])  # weekly digest only
    event = sqs_event(change)
    assert notify_handler.handler(event, context) == {"batchItemFailures": []}
    notify_handler.handler(event, context)  # SNS/SQS redelivery
    emails = _emails()
    assert [m.destinations["ToAddresses"] for m in emails] == [["ana@example.com"]]
    assert "Anthropic (Claude) changed its Privacy Policy" in emails[0].subject
    assert "We may use your Inputs and Outputs to train our models" in emails[0].body
    assert [
        (phone, msg.startswith("policywatch: Anthropic (Claude) changed its Privacy Policy")) for phone, msg in _sms()
    ] == [("+14155550100", True)]
    table = boto3.resource("dynamodb", region_name=REGION).Table("deliveries")
    items = table.scan()["Items"]
    assert sorted(i["recipient"] for i in items) == [f"{watcher.subscriber_id}#email", f"{watcher.subscriber_id}#sms"]
    assert all(i["status"] == "sent" and i["expires_at"] > 0 for i in items)


def test_a_failed_send_is_retried_without_resending_what_went_out(stack, context, monkeypatch):
    change = _training_change(stack, context)["body"]
    _subscribe("ana@example.com", "watcher", ["anthropic"], "+14155550100")
    import policywatch.notify as notify

    def broken_sms(phone, text):
        raise RuntimeError("SMS provider down")

    with monkeypatch.context() as patched:
        patched.setattr(notify, "send_sms", broken_sms)
        with pytest.raises(BatchProcessingError):
            notify_handler.handler(sqs_event(change), context)
    assert len(_emails()) == 1 and _sms() == []
    notify_handler.handler(sqs_event(change), context)
    assert len(_emails()) == 1 and len(_sms()) == 1


def test_weekly_digest_reaches_free_subscribers_once(stack, context):
    _training_change(stack, context)
    free = _subscribe("cy@example.com", "free", ["anthropic"])
    _subscribe("dee@example.com", "free", ["openai"])  # nothing this week
    result = digest_handler.handler({}, context)
    assert result == {"sent": 1, "empty": 1, "duplicates": 0}
    assert digest_handler.handler({}, context)["duplicates"] == 1
    emails = _emails()
    assert len(emails) == 1 and emails[0].destinations["ToAddresses"] == [free.email]
    assert "Weekly digest" in emails[0].subject and "Privacy Policy" in emails[0].body


def test_a_message_that_is_not_a_change_event_sends_nothing(stack, context):
    _subscribe("ana@example.com", "watcher", ["anthropic"], "+14155550100")
    with pytest.raises(BatchProcessingError, match="change event abc lacks platform_name, document_type"):
        notify_handler.handler(sqs_event({"change_id": "abc", "platform": "anthropic", "alert": True}), context)
    assert _emails() == [] and _sms() == []
