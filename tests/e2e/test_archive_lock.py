"""The archive is write-once on the local stack: S3 Object Lock, as template.yaml declares it.

A locked object version cannot be deleted before its retention ends, and an overwrite makes a
new version, leaving the locked one in place and readable. The stack's roles hold no grant to
bypass governance retention (checked on the deployed template), so nothing the stack runs can.
The probe object lives under its own prefix, which no other test counts. That no role may bypass
retention is checked on the template itself (tests/unit/test_archive_lock.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from devstack.template import load
from tests.helpers.paths import ROOT

KEY = "lock-probe/evidence.md"


def test_a_locked_version_cannot_be_deleted_and_an_overwrite_keeps_it(deployed):
    s3, bucket = deployed.client("s3"), deployed.outputs["ArchiveBucketName"]
    rule = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    declared = load(ROOT / "template.yaml")["Parameters"]
    assert rule == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {
            "DefaultRetention": {
                "Mode": declared["ArchiveLockMode"]["Default"],
                "Days": int(declared["ArchiveLockDays"]["Default"]),
            }
        },
    }

    first = s3.put_object(Bucket=bucket, Key=KEY, Body=b"what the platform served")["VersionId"]
    retention = s3.get_object_retention(Bucket=bucket, Key=KEY, VersionId=first)["Retention"]
    assert retention["Mode"] == "GOVERNANCE"
    assert retention["RetainUntilDate"] > datetime.now(UTC) + timedelta(days=365 * 6)

    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=bucket, Key=KEY, VersionId=first)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"

    s3.put_object(Bucket=bucket, Key=KEY, Body=b"a rewrite")  # an overwrite is a new version
    versions = s3.list_object_versions(Bucket=bucket, Prefix=KEY)["Versions"]
    assert len(versions) == 2
    kept = s3.get_object(Bucket=bucket, Key=KEY, VersionId=first)["Body"].read()
    assert kept == b"what the platform served"

    s3.delete_object(Bucket=bucket, Key=KEY)  # a plain delete only hides it behind a marker
    assert s3.get_object(Bucket=bucket, Key=KEY, VersionId=first)["Body"].read() == kept
