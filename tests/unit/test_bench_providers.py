"""The benchmarks' fake of SES, SNS and webhook receivers (bench/providers.py), driven by real boto3 clients.

Latencies are set to a few milliseconds here: what is tested is what the fake answers and counts,
not how long it takes. Also the event-source rules bench/lambdas.py plays Lambda with.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from bench.lambdas import failed_ids, sqs_event
from bench.providers import Providers, Settings

FAST = Settings(ses_rate=5, sns_rate=3, ses_latency=0.002, sns_latency=0.002, webhook_latency=0.002, jitter=0.001)
MESSAGE = b"From: alerts@policywatch.test\r\nTo: reader@example.com\r\nSubject: A change\r\n\r\nHello\r\n"


@pytest.fixture(scope="module")
def running() -> Iterator[Providers]:
    with Providers(FAST) as providers:  # its own process, as benchmarks run it
        yield providers


@pytest.fixture
def providers(running: Providers) -> Providers:
    running.configure(**{name: getattr(FAST, name) for name in ("ses_rate", "ses_daily", "sns_rate")})
    running.reset()
    return running


def _client(providers: Providers, service: str, retries: dict | None = None):
    """A client of the fake; no retry unless asked (botocore's ``max_attempts`` counts retries, so
    ``{"max_attempts": 1}`` would still retry once: ``total_max_attempts`` 1 is one attempt)."""
    return boto3.client(
        service,
        endpoint_url=providers.endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries=retries or {"mode": "standard", "total_max_attempts": 1}),
    )


def _send(ses, recipient: str) -> str:
    return ses.send_raw_email(Source="alerts@policywatch.test", Destinations=[recipient], RawMessage={"Data": MESSAGE})[
        "MessageId"
    ]


def test_an_email_is_accepted_with_a_message_id_and_counted_for_its_recipient(providers):
    ses = _client(providers, "ses")

    ids = {_send(ses, "reader@example.com"), _send(ses, "other@example.com")}

    counts = providers.counts()
    assert len(ids) == 2
    assert counts["accepted"]["ses"] == 2 and counts["throttled"]["ses"] == 0
    assert counts["recipients"]["ses"] == {"reader@example.com": 1, "other@example.com": 1}
    assert counts["duplicated_recipients"]["ses"] == 0


def test_without_destinations_the_recipients_are_the_messages_to_cc_and_bcc(providers):
    raw = b"From: a@policywatch.test\r\nTo: Reader <r@example.com>\r\nCc: c@example.com\r\nSubject: x\r\n\r\nbody"

    _client(providers, "ses").send_raw_email(RawMessage={"Data": raw})

    assert providers.counts()["recipients"]["ses"] == {"r@example.com": 1, "c@example.com": 1}


def test_the_quota_is_what_get_send_quota_says(providers):
    quota = _client(providers, "ses").get_send_quota()

    assert quota["MaxSendRate"] == 5.0
    assert quota["Max24HourSend"] == 50_000.0
    assert quota["SentLast24Hours"] == 0.0


def test_more_sends_than_the_quota_within_a_second_are_throttled_as_ses_throttles(providers):
    ses = _client(providers, "ses")
    sent, refused = [], []
    for n in range(7):
        try:
            sent.append(_send(ses, f"reader{n}@example.com"))
        except ClientError as error:
            refused.append(error.response)

    assert len(sent) == 5
    assert [r["ResponseMetadata"]["HTTPStatusCode"] for r in refused] == [400, 400]
    assert [r["Error"]["Code"] for r in refused] == ["Throttling", "Throttling"]
    assert {r["Error"]["Message"] for r in refused} == {"Maximum sending rate exceeded."}
    counts = providers.counts()
    assert counts["accepted"]["ses"] == 5 and counts["throttled"]["ses"] == 2
    assert counts["peak_per_second"]["ses"] == 5
    assert "reader5@example.com" not in counts["recipients"]["ses"]


def test_the_daily_quota_is_enforced_too(providers):
    providers.configure(ses_daily=1)
    ses = _client(providers, "ses")
    _send(ses, "reader@example.com")

    with pytest.raises(ClientError, match="Daily message quota exceeded"):
        _send(ses, "other@example.com")


def test_botocores_standard_retries_get_a_throttled_send_through_and_every_attempt_is_counted(providers):
    providers.configure(ses_rate=1)
    ses = _client(providers, "ses", {"mode": "standard", "max_attempts": 5})  # as policywatch.storage.clients

    _send(ses, "first@example.com")
    answer = ses.send_raw_email(Destinations=["second@example.com"], RawMessage={"Data": MESSAGE})

    counts = providers.counts()
    assert answer["ResponseMetadata"]["RetryAttempts"] >= 1
    assert counts["accepted"]["ses"] == 2
    assert counts["throttled"]["ses"] == answer["ResponseMetadata"]["RetryAttempts"]
    assert counts["recipients"]["ses"] == {"first@example.com": 1, "second@example.com": 1}


def test_an_sms_is_counted_for_its_phone_and_throttled_beyond_its_quota(providers):
    sns = _client(providers, "sns")
    for _ in range(3):
        assert sns.publish(PhoneNumber="+14155550100", Message="A policy changed")["MessageId"]

    with pytest.raises(ClientError) as raised:
        sns.publish(PhoneNumber="+14155550101", Message="A policy changed")

    assert raised.value.response["Error"]["Code"] == "Throttling"
    assert raised.value.response["Error"]["Message"] == "Rate exceeded"
    counts = providers.counts()
    assert counts["recipients"]["sns"] == {"+14155550100": 3}
    assert counts["throttled"]["sns"] == 1
    assert counts["duplicated_recipients"]["sns"] == 1


def test_a_publish_to_a_topic_is_answered_without_the_sms_quota(providers):
    sns = _client(providers, "sns")
    topic = sns.create_topic(Name="operator")["TopicArn"]

    for _ in range(5):
        sns.publish(TopicArn=topic, Message="note")

    counts = providers.counts()
    assert counts["accepted"]["topic"] == 5 and counts["accepted"]["sns"] == 0


def test_a_webhook_post_is_answered_204_and_counted_for_its_path(providers):
    request = urllib.request.Request(providers.hook("sub_1/wh_1"), data=b'{"type": "policy.changed"}', method="POST")

    with urllib.request.urlopen(request, timeout=5) as response:
        status = response.status

    assert status == 204
    assert providers.counts()["recipients"]["webhook"] == {"/hooks/sub_1/wh_1": 1}


def test_reset_zeroes_the_counters(providers):
    _send(_client(providers, "ses"), "reader@example.com")

    providers.reset()

    counts = providers.counts(recipients=False)
    assert counts["accepted"]["ses"] == 0 and "recipients" not in counts


def test_the_service_endpoint_variables_send_ses_and_sns_to_it_and_the_rest_to_aws_endpoint_url(providers):
    script = "import boto3; print(*(boto3.client(s).meta.endpoint_url for s in ('ses', 'sns', 'sqs', 'dynamodb')))"
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
        **providers.env(),
    }

    found = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)

    assert found.stdout.split() == [providers.endpoint] * 2 + ["http://127.0.0.1:4566"] * 2


def test_it_runs_in_a_thread_of_the_caller_too():
    with Providers(FAST, process=False) as providers:
        started = time.perf_counter()
        _send(_client(providers, "ses"), "reader@example.com")
        assert time.perf_counter() - started < 1
        assert providers.counts()["accepted"]["ses"] == 1


# ----------------------------------------------------------------- the event source (bench/lambdas.py)


def test_received_messages_become_lambdas_sqs_event():
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "r1",
        "Body": "{}",
        "MD5OfBody": "99914b932bd37a50b983c5e7c90ae93b",
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1700000000000"},
        "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "change"}},
    }

    record = sqs_event([message], "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1")["Records"][0]

    assert record == {
        "messageId": "m1",
        "receiptHandle": "r1",
        "body": "{}",
        "attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1700000000000"},
        "messageAttributes": {
            "kind": {"stringValue": "change", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
        },
        "md5OfBody": "99914b932bd37a50b983c5e7c90ae93b",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
        "awsRegion": "us-east-1",
    }


@pytest.mark.parametrize(
    ("response", "failed"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": "z"}]}, {"a", "b", "c"}),  # not in the batch
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b", "c"}),
        ({"batchItemFailures": [{"id": "b"}]}, {"a", "b", "c"}),
    ],
)
def test_batch_item_failures_are_read_as_lambda_reads_them(response, failed):
    assert failed_ids(response, ["a", "b", "c"]) == failed
