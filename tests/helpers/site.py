"""Real policy histories loaded into the moto stack by the pipeline's own archive and diff code.

The versions are Open Terms Archive's (../shared/corpus/histories, ODC-By 1.0); each is archived
as the fetch stage archives a version and diffed by ``process_version``, which writes the change
records and the site's read model exactly as the diff function does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import boto3
import pytest
from moto import mock_aws

from devstack.tables import create_tables
from functions.web import web_handler
from policywatch.analysis.changes import process_version
from policywatch.storage import clients as aws
from policywatch.storage import secrets
from policywatch.storage.archive import Archive
from policywatch.storage.site import SiteIndex
from policywatch.storage.topics import Topic
from tests.helpers.aws import BUCKET, REGION, SENDER, stack_secrets
from tests.helpers.corpus import HISTORIES


@dataclass(frozen=True)
class History:
    folder: str  # in ../shared/corpus/histories
    platform: str
    document: str
    document_type: str
    url: str


CLAUDE = History(
    "claude-ai-privacy-policy",
    "anthropic",
    "privacy-policy",
    "Privacy Policy",
    "https://www.anthropic.com/legal/privacy",
)
CHATGPT = History(
    "chatgpt-privacy-policy",
    "openai",
    "privacy-policy",
    "Privacy Policy",
    "https://openai.com/policies/privacy-policy/",
)
MIDJOURNEY = History(
    "midjourney-terms-of-service",
    "midjourney",
    "terms-of-service",
    "Terms of Service",
    "https://docs.midjourney.com/docs/terms-of-service",
)


@contextmanager
def site_stack(base_url: str) -> Iterator[str]:
    """A moto stack with what the web function reads (archive, documents, subscribers, the site's
    read model), for a test module that loads histories once; yields the change topic's ARN.

    The web function keeps one ``Site`` per warm process (its clients, the catalog and health):
    it is dropped on the way in and out, so no module sees another's stack.
    """
    with pytest.MonkeyPatch.context() as env, mock_aws():
        for name, value in {
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "ARCHIVE_BUCKET": BUCKET,
            "DOCUMENTS_TABLE": "documents",
            "SUBSCRIBERS_TABLE": "subscribers",
            "SITE_TABLE": "site",
            "PUBLIC_BASE_URL": base_url,
        }.items():
            env.setenv(name, value)
        env.delenv("AWS_ENDPOINT_URL", raising=False)
        aws.reset()
        web_handler._site.cache_clear()
        web_handler._services.cache_clear()
        secrets.forget()
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        create_tables(
            boto3.client("dynamodb", region_name=REGION),
            {
                "DocumentsTable": "documents",
                "SubscribersTable": "subscribers",
                "SiteTable": "site",
                "DeliveriesTable": "deliveries",
            },
        )
        site_secret, billing_secret = stack_secrets()
        env.setenv("ACCOUNTS_TABLE", "accounts")
        env.setenv("DELIVERIES_TABLE", "deliveries")
        env.setenv("SENDER_EMAIL", SENDER)
        env.setenv("SITE_SECRET_ARN", site_secret)
        env.setenv("BILLING_SECRET_ARN", billing_secret)
        boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=SENDER)
        yield boto3.client("sns", region_name=REGION).create_topic(Name="changes")["TopicArn"]
        web_handler._site.cache_clear()
        aws.reset()


def archive_version(document_key: str, moment: datetime, text: str, metadata: dict[str, str], topic_arn: str) -> str:
    """Archive ``text`` as the fetch stage archives a version and diff it as the diff function does."""
    archive = Archive(BUCKET)
    key = archive.put_version(
        document_key, moment, text, {"fetched-at": moment.strftime("%Y-%m-%dT%H:%M:%SZ"), **metadata}
    )
    process_version(archive, key, Topic(topic_arn), now=moment, site=SiteIndex("site"))
    return key


def load_history(history: History, topic_arn: str, *, first: int = 1, last: int | None = None) -> list[str]:
    """Archive versions ``first``..``last`` of ``history`` and diff each; the version keys, oldest first."""
    index = json.loads((HISTORIES / history.folder / "index.json").read_text())
    metadata = {"source-url": history.url, "document-type": history.document_type, "extractor-version": "2"}
    return [
        archive_version(
            f"{history.platform}/{history.document}",
            datetime.fromisoformat(entry["recorded_at"]),
            (HISTORIES / history.folder / entry["file"]).read_text(),
            metadata,
            topic_arn,
        )
        for entry in index["versions"]
        if entry["seq"] >= first and (last is None or entry["seq"] <= last)
    ]
