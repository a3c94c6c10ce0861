"""template.yaml's grants, read the way tests/iam_policy.py applies them to every handler's calls."""

from __future__ import annotations

import pytest

from policywatch.web import pages
from tests.helpers.iam_policy import ACCOUNT, REGION, Call, calls, denial, handler_functions

BUCKET = "policywatch-archive-123456789012-us-east-1"
QUEUE = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}"
ENV = {
    "ARCHIVE_BUCKET": BUCKET,
    "DOCUMENTS_TABLE": "documents",
    "SUBSCRIBERS_TABLE": "subscribers",
    "DELIVERIES_TABLE": "deliveries",
    "SITE_TABLE": "site",
    "FETCH_QUEUE_URL": f"{QUEUE}/fetch.fifo",
    "DELIVERY_QUEUE_URL": f"{QUEUE}/delivery",
    "DELIVERY_DLQ_URL": f"{QUEUE}/delivery-dlq",
    "CHANGE_TOPIC_ARN": f"arn:aws:sns:{REGION}:{ACCOUNT}:changes",
    "OPERATOR_TOPIC_ARN": f"arn:aws:sns:{REGION}:{ACCOUNT}:operator",
    "SENDER_EMAIL": "alerts@policywatch.test",
}


def allowed(function: str, service: str, operation: str, **params) -> bool:
    return all(denial(function, ENV, call) is None for call in calls(service, operation, params))


def test_every_function_is_found_by_its_handler_module():
    assert handler_functions()["functions.fetch.fetch_handler"] == "FetchFunction"
    assert handler_functions()["functions.web.web_handler"] == "WebFunction"
    assert len(set(handler_functions().values())) == len(handler_functions())


def test_the_fetch_function_may_read_its_own_snapshots_to_rebuild_a_version():
    prefix = "snapshots/anthropic/privacy-policy/"
    assert allowed("FetchFunction", "s3", "ListObjectsV2", Bucket=BUCKET, Prefix=prefix)
    assert allowed("FetchFunction", "s3", "GetObject", Bucket=BUCKET, Key=prefix + "2025-08-29T003202.000Z.html")
    assert allowed("FetchFunction", "s3", "PutObject", Bucket=BUCKET, Key="versions/anthropic/privacy-policy/x.md")


def test_the_fetch_function_may_not_list_or_read_the_rest_of_the_archive():
    assert not allowed("FetchFunction", "s3", "ListObjectsV2", Bucket=BUCKET, Prefix="changes/")
    assert not allowed("FetchFunction", "s3", "GetObject", Bucket=BUCKET, Key="changes/a/b/c.json")
    assert not allowed("FetchFunction", "s3", "PutObject", Bucket=BUCKET, Key="changes/a/b/c.json")


def test_the_public_web_function_reads_the_evidence_and_the_catalog_only():
    assert allowed("WebFunction", "s3", "GetObject", Bucket=BUCKET, Key="changes/a/b/c.json")
    assert allowed("WebFunction", "s3", "GetObject", Bucket=BUCKET, Key="config/catalog.json")  # the platforms shown
    # Raw pages and the hash chain go into a change's audit pack (a zip, behind a Professional link);
    # no route serves a snapshot as a page (pages.VERSION_PATH: versions only).
    assert allowed("WebFunction", "s3", "GetObject", Bucket=BUCKET, Key="snapshots/a/b/c.html")
    assert allowed("WebFunction", "s3", "GetObject", Bucket=BUCKET, Key="manifests/a/b/c.json")
    assert not pages.VERSION_PATH.match("snapshots/a/b/2025-08-29T003202.000Z.html")
    assert not allowed("WebFunction", "s3", "GetObject", Bucket=BUCKET, Key="memory/a/b.json")
    assert not allowed("WebFunction", "s3", "PutObject", Bucket=BUCKET, Key="manifests/a/b/c.json")
    assert not allowed("WebFunction", "s3", "PutObject", Bucket=BUCKET, Key="changes/a/b/c.json")
    # The read model: read only; the diff function writes it.
    assert allowed("WebFunction", "dynamodb", "Query", TableName="site", KeyConditionExpression="pk = :pk")
    assert not allowed("WebFunction", "dynamodb", "PutItem", TableName="site", Item={})
    assert allowed("DiffFunction", "dynamodb", "BatchWriteItem", RequestItems={"site": [{"PutRequest": {"Item": {}}}]})
    # Listing is what lets S3 answer a missing page with 404 rather than 403.
    assert allowed("WebFunction", "s3", "ListObjectsV2", Bucket=BUCKET)


def test_functions_that_text_people_may_not_publish_to_any_topic():
    for function in ("NotifyFunction", "DeliveryFunction"):
        assert allowed(function, "sns", "Publish", PhoneNumber="+14155550100", Message="hi")
        assert not allowed(function, "sns", "Publish", TopicArn=ENV["CHANGE_TOPIC_ARN"], Message="{}")
        assert not allowed(function, "sns", "Publish", TopicArn=ENV["OPERATOR_TOPIC_ARN"], Message="{}")


def test_email_goes_out_only_from_the_stacks_sender_identity():
    ok = {"Source": "alerts@policywatch.test", "RawMessage": {"Data": b""}}
    assert allowed("NotifyFunction", "ses", "SendRawEmail", **ok)
    raw = b"From: Someone <other@elsewhere.example>\r\nTo: x@example.com\r\n\r\nhi"
    assert not allowed("NotifyFunction", "ses", "SendRawEmail", RawMessage={"Data": raw})


def test_a_resource_the_function_was_not_given_matches_nothing():
    # The diff function is told about no delivery queue, so no statement can name it.
    call = Call("sqs:SendMessage", (f"arn:aws:sqs:{REGION}:{ACCOUNT}:delivery",))
    assert "DiffFunction is not allowed sqs:SendMessage" in denial("DiffFunction", ENV, call)


def test_an_operation_without_a_mapping_is_refused_loudly():
    with pytest.raises(NotImplementedError, match="s3 DeleteBucket"):
        list(calls("s3", "DeleteBucket", {"Bucket": BUCKET}))
