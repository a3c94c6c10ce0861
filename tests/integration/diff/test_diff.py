"""The diff handler against moto: two versions make one recorded, published change."""

import json
from datetime import timedelta

import pytest

from functions.diff import diff_handler
from tests.helpers.changes import T0, put_version, training_change
from tests.helpers.events import s3_event


def test_diff_records_and_publishes_the_change_once(stack, context):
    event = training_change(stack, context)
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
    first = put_version(stack, "# P\n\nWe don't sell data.", T0)
    assert diff_handler.handler(s3_event(stack.bucket, first), context) == {"changes": []}
    second = put_version(stack, "# P\n\nWe don\u2019t sell data.", T0 + timedelta(hours=1))
    assert len(diff_handler.handler(s3_event(stack.bucket, second), context)["changes"]) == 1
    assert stack.published_changes() == []
    record = json.loads(stack.s3.get_object(Bucket=stack.bucket, Key=stack.keys("changes/")[0])["Body"].read())
    assert record["kind"] == "cosmetic" and record["alert"] is False


@pytest.mark.timeout(60)  # before: a 5 MB paragraph took 22-25 s and 600 MB against the function's 512 MB
def test_a_version_built_to_defeat_the_diff_is_still_recorded_and_published(stack, context):
    """Issue 11: a failed diff was dropped after two attempts and the change skipped for good.
    A 3 MB paragraph now diffs in seconds: recorded with its limits, published, alerting."""
    words = " ".join(["we may share your personal data with service providers"] * 50_000)  # 3 MB, one paragraph
    put_version(stack, "# Privacy Policy\n\n" + words, T0)
    key = put_version(stack, "# Privacy Policy\n\n" + words + " and we will sell it.", T0 + timedelta(hours=1))
    assert len(diff_handler.handler(s3_event(stack.bucket, key), context)["changes"]) == 1
    (event,) = stack.published_changes()
    change = event["body"]
    assert change["kind"] == "substantive" and change["alert"] is True
    assert [entry["step"] for entry in change["limits"]][:1] == ["pairing"]
    record = json.loads(stack.s3.get_object(Bucket=stack.bucket, Key=change["record_key"])["Body"].read())
    assert record["limits"] == change["limits"]
    assert "we will sell it" in record["blocks"][0]["delta"][-1]["text"]


def test_a_text_seen_before_never_alerts_again_however_long_ago(stack, context):
    """Issue 13: a page alternating for months between an error page and the policy re-alerted
    each time it came back, past a ten-version flap window. The memory covers the whole history
    (memory/{platform}/{document}.json), and is rebuilt from the versions when missing."""
    policy = "# P\n\nWe will not use your content to train our models.\n\nWe keep logs for 30 days."
    stub = "# P\n\nWe keep logs for 30 days."
    when = T0
    texts = [policy] + [f"{stub}\n\nNotice {n}." for n in range(12)] + [policy, stub + "\n\nNotice 3."]
    for n, text in enumerate(texts):
        key = put_version(stack, text, when + timedelta(hours=n))
        diff_handler.handler(s3_event(stack.bucket, key), context)
        if n == 5:  # a stack upgraded to the memory, or a crash after a record: rebuilt from the versions
            stack.s3.delete_object(Bucket=stack.bucket, Key="memory/anthropic/privacy-policy.json")
    records = [
        json.loads(stack.s3.get_object(Bucket=stack.bucket, Key=k)["Body"].read()) for k in stack.keys("changes/")
    ]
    assert [r["kind"] for r in records[-2:]] == ["flap", "flap"]  # back to the policy, then to a stub seen before
    memory = json.loads(
        stack.s3.get_object(Bucket=stack.bucket, Key="memory/anthropic/privacy-policy.json")["Body"].read()
    )
    assert memory["last"] == records[-1]["evidence"]["current"]["key"] and len(memory["words"]) == len(texts)
