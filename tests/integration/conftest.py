"""Handlers in-process against moto (mock_aws), with the resources the template declares.

The stack's names, the events and the published training change are in tests/helpers (aws, events, changes).
"""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from devstack.tables import create_tables
from functions.notify import notify_handler
from functions.web import web_handler
from policywatch.storage import clients as aws
from policywatch.storage import secrets
from tests.helpers.aws import BUCKET, REGION, SENDER, Stack, stack_secrets
from tests.helpers.events import LambdaContext


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext()


@pytest.fixture
def stack(monkeypatch) -> Stack:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "policywatch")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "policywatch")
    with mock_aws():
        aws.reset()
        web_handler._site.cache_clear()  # a warm function's Site: its clients and cached health are this stack's
        web_handler._services.cache_clear()
        secrets.forget()
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        create_tables(
            boto3.client("dynamodb", region_name=REGION),
            {
                "DocumentsTable": "documents",
                "SubscribersTable": "subscribers",
                "DeliveriesTable": "deliveries",
                "SiteTable": "site",
                "AccountsTable": "accounts",
                "SendRateTable": "send-rate",
            },
        )
        sqs = boto3.client("sqs", region_name=REGION)
        fetch_queue = sqs.create_queue(
            QueueName="fetch.fifo", Attributes={"FifoQueue": "true", "VisibilityTimeout": "720"}
        )["QueueUrl"]
        capture = sqs.create_queue(QueueName="capture")["QueueUrl"]
        delivery_dlq = sqs.create_queue(QueueName="delivery-dlq")["QueueUrl"]
        delivery_queue = sqs.create_queue(QueueName="delivery", Attributes={"VisibilityTimeout": "360"})["QueueUrl"]
        operator_capture = sqs.create_queue(QueueName="operator-capture")["QueueUrl"]
        fanout_queue = sqs.create_queue(QueueName="fanout", Attributes={"VisibilityTimeout": "720"})["QueueUrl"]
        sns = boto3.client("sns", region_name=REGION)
        topic = sns.create_topic(Name="changes")["TopicArn"]
        operator_topic = sns.create_topic(Name="operator")["TopicArn"]

        def queue_arn(url: str) -> str:
            return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

        sns.subscribe(
            TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(capture), Attributes={"RawMessageDelivery": "true"}
        )
        sns.subscribe(TopicArn=operator_topic, Protocol="sqs", Endpoint=queue_arn(operator_capture))
        boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=SENDER)
        site_secret, billing_secret = stack_secrets()
        for name, value in {
            "ARCHIVE_BUCKET": BUCKET,
            "DOCUMENTS_TABLE": "documents",
            "SUBSCRIBERS_TABLE": "subscribers",
            "DELIVERIES_TABLE": "deliveries",
            "SITE_TABLE": "site",
            "FETCH_QUEUE_URL": fetch_queue,
            "CHANGE_TOPIC_ARN": topic,
            "OPERATOR_TOPIC_ARN": operator_topic,
            "FAILURE_ALERT_AFTER": "3",
            "SENDER_EMAIL": SENDER,
            "CONNECT_TIMEOUT_SECONDS": "2",
            "READ_TIMEOUT_SECONDS": "3",
            "RETRY_BASE_DELAY_MS": "20",  # real retries, short waits
            "DELIVERY_QUEUE_URL": delivery_queue,
            "FANOUT_QUEUE_URL": fanout_queue,
            "DELIVERY_DLQ_URL": delivery_dlq,
            "DELIVERY_ATTEMPTS": "3",
            "DELIVERY_BACKOFF_BASE_SECONDS": "0",  # retries visible at once: the test drives the queue
            "PUBLIC_BASE_URL": "https://policywatch.test",
            "WEBHOOK_CONNECT_TIMEOUT_MS": "300",
            "WEBHOOK_READ_TIMEOUT_MS": "500",
            "ACCOUNTS_TABLE": "accounts",
            "SITE_SECRET_ARN": site_secret,
            "BILLING_SECRET_ARN": billing_secret,
        }.items():
            monkeypatch.setenv(name, value)
        yield Stack(BUCKET, fetch_queue, topic, capture, operator_capture, delivery_queue, delivery_dlq, fanout_queue)
        aws.reset()
        notify_handler._record.cache_clear()  # records of one test's archive, under keys the next one reuses
        notify_handler._change.cache_clear()
