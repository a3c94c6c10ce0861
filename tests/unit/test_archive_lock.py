"""The archive is write-once: its bucket declares Object Lock, and no function may lift it."""

from __future__ import annotations

from typing import Any

from devstack.template import load
from tests.helpers.paths import ROOT

FORBIDDEN = {"s3:BypassGovernanceRetention", "s3:PutObjectRetention", "s3:PutObjectLegalHold",
             "s3:PutBucketObjectLockConfiguration", "s3:DeleteObjectVersion", "s3:*", "*"}  # fmt: skip


def actions(value: Any) -> list[str]:
    """Every Action named anywhere in ``value`` (policies nest statements in lists and dicts)."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Action":
                found += inner if isinstance(inner, list) else [inner]
            else:
                found += actions(inner)
    elif isinstance(value, list):
        for inner in value:
            found += actions(inner)
    return found


def test_the_archive_bucket_declares_object_lock_from_its_parameters():
    template = load(ROOT / "template.yaml")
    bucket = template["Resources"]["ArchiveBucket"]["Properties"]
    assert bucket["ObjectLockEnabled"] is True and bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    retention = bucket["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert {retention["Mode"].value, retention["Days"].value} == {"ArchiveLockMode", "ArchiveLockDays"}
    assert template["Parameters"]["ArchiveLockMode"]["Default"] == "GOVERNANCE"


def test_no_function_may_bypass_retention_or_delete_an_object_version():
    resources = load(ROOT / "template.yaml")["Resources"]
    granted = {
        name: [a for a in actions(resource.get("Properties", {}).get("Policies", [])) if isinstance(a, str)]
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert granted and not {name: sorted(FORBIDDEN & set(a)) for name, a in granted.items() if FORBIDDEN & set(a)}
