"""template.yaml's grants for checkpoints: the checkpoint function reads chains and signs; the site reads what it publishes."""

from __future__ import annotations

from devstack.template import load
from tests.helpers.iam_policy import ACCOUNT, REGION, calls, denial
from tests.helpers.paths import ROOT

BUCKET = "policywatch-archive-123456789012-us-east-1"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0d7e6f2a-1111-4222-8333-944455556666"
OTHER_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0d7e6f2a-9999-4222-8333-944455556666"
ENV = {"ARCHIVE_BUCKET": BUCKET, "SIGNING_KEY_ARN": KEY}


def allowed(function: str, service: str, operation: str, **params) -> bool:
    return all(denial(function, ENV, call) is None for call in calls(service, operation, params))


def test_the_checkpoint_function_lists_and_reads_manifests_only():
    assert allowed("CheckpointFunction", "s3", "ListObjectsV2", Bucket=BUCKET, Prefix="manifests/")
    assert allowed("CheckpointFunction", "s3", "GetObject", Bucket=BUCKET, Key="manifests/a/b/x.json")
    assert not allowed("CheckpointFunction", "s3", "ListObjectsV2", Bucket=BUCKET, Prefix="versions/")
    assert not allowed("CheckpointFunction", "s3", "GetObject", Bucket=BUCKET, Key="versions/a/b/x.md")
    assert not allowed("CheckpointFunction", "s3", "GetObject", Bucket=BUCKET, Key="checkpoints/latest.json")


def test_the_checkpoint_function_writes_checkpoints_only():
    assert allowed("CheckpointFunction", "s3", "PutObject", Bucket=BUCKET, Key="checkpoints/latest.sig")
    assert not allowed("CheckpointFunction", "s3", "PutObject", Bucket=BUCKET, Key="manifests/a/b/x.json")
    assert not allowed("CheckpointFunction", "s3", "DeleteObject", Bucket=BUCKET, Key="checkpoints/latest.sig")


def test_the_checkpoint_function_signs_with_the_stacks_key_only():
    assert allowed("CheckpointFunction", "kms", "Sign", KeyId=KEY, Message=b"x" * 32, MessageType="DIGEST")
    assert allowed("CheckpointFunction", "kms", "GetPublicKey", KeyId=KEY)
    assert not allowed("CheckpointFunction", "kms", "Sign", KeyId=OTHER_KEY, Message=b"x" * 32)


def test_no_other_function_may_sign():
    functions = [
        name
        for name, resource in load(ROOT / "template.yaml")["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function" and name != "CheckpointFunction"
    ]
    assert "WebFunction" in functions
    assert not [f for f in functions if allowed(f, "kms", "Sign", KeyId=KEY, Message=b"x" * 32)]


def test_the_site_reads_published_checkpoints_but_not_the_manifests_behind_them():
    assert allowed("WebFunction", "s3", "GetObject", Bucket=BUCKET, Key="checkpoints/latest.json")
    assert allowed("WebFunction", "s3", "GetObject", Bucket=BUCKET, Key="checkpoints/public-key.pem")
    assert not allowed("WebFunction", "s3", "PutObject", Bucket=BUCKET, Key="checkpoints/latest.json")


def test_the_key_signs_ecdsa_p256_and_its_policy_lets_the_account_administer_it():
    key = load(ROOT / "template.yaml")["Resources"]["SigningKey"]["Properties"]
    assert (key["KeySpec"], key["KeyUsage"]) == ("ECC_NIST_P256", "SIGN_VERIFY")
    statements = key["KeyPolicy"]["Statement"]
    assert all(s["Principal"]["AWS"].value.endswith(":root") for s in statements)  # no one outside the account
    granted = [a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
    assert "kms:PutKeyPolicy" in granted or "kms:Put*" in granted  # never locked out
    assert "kms:*" not in granted and "kms:Sign" in granted
