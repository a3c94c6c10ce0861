"""The checkpoint function against moto: every chain's head signed with the stack's KMS key, published, served.

The manifests are written here (bytes of our own: the checkpoint signs what is there, whatever
the chain holds); the signature is checked with ``evidence.checkpoint.verify`` and the public key
the function published, as an auditor would.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from datetime import UTC, datetime

import boto3
import pytest

from functions.evidence import checkpoint_handler
from functions.web import web_handler
from policywatch.core import clock
from policywatch.evidence.checkpoint import read, verify
from tests.helpers.aws import REGION
from tests.helpers.paths import EVENTS
from tests.integration.evidence.moto_kms import digests_signed_as_kms_does

AT = datetime(2026, 12, 2, 15, 0, 0, 456000, tzinfo=UTC)
STAMP = "2026-12-02T150000.000Z"
SAMPLE = json.loads((EVENTS / "web.json").read_text())


@pytest.fixture
def key(stack, monkeypatch) -> str:
    """The stack's signing key (ECC_NIST_P256, SIGN_VERIFY), told to the function as template.yaml tells it."""
    arn = boto3.client("kms", region_name=REGION).create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    monkeypatch.setenv("SIGNING_KEY_ARN", arn["KeyMetadata"]["Arn"])
    monkeypatch.setattr(clock, "now", lambda: AT)
    with digests_signed_as_kms_does():
        yield arn["KeyMetadata"]["Arn"]


def manifest(stack, document: str, stamp: str, sequence: int) -> bytes:
    data = json.dumps({"schema": "policywatch.manifest/1", "document": document, "sequence": sequence}).encode()
    stack.s3.put_object(Bucket=stack.bucket, Key=f"manifests/{document}/{stamp}.json", Body=data)
    return data


def get(stack, key: str) -> bytes:
    return stack.s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read()


def run(context) -> dict:
    return checkpoint_handler.handler({"time": "2026-12-02T15:00:00Z"}, context)


def test_every_documents_head_is_signed_and_published(stack, key, context):
    manifest(stack, "anthropic/privacy-policy", "2025-08-28T003202.000Z", 1)
    head = manifest(stack, "anthropic/privacy-policy", "2025-08-29T003202.000Z", 2)
    openai = manifest(stack, "openai/terms", "2024-01-10T120000.000Z", 1)
    stack.s3.put_object(Bucket=stack.bucket, Key="versions/openai/terms/2026-01-01T000000.000Z.md", Body=b"not chained")

    result = run(context)

    assert result == {
        "at": "2026-12-02T15:00:00Z",
        "chains": 2,
        "checkpoint": f"checkpoints/{STAMP}.json",
        "signature": f"checkpoints/{STAMP}.sig",
    }
    assert stack.keys("checkpoints/") == sorted(
        [f"checkpoints/{STAMP}.json", f"checkpoints/{STAMP}.sig", "checkpoints/public-key.pem"]
        + ["checkpoints/latest.json", "checkpoints/latest.sig"]
    )
    signed, signature = get(stack, f"checkpoints/{STAMP}.json"), get(stack, f"checkpoints/{STAMP}.sig")
    assert get(stack, "checkpoints/latest.json") == signed and get(stack, "checkpoints/latest.sig") == signature
    assert read(signed)["heads"] == {
        "anthropic/privacy-policy": {
            "manifest": "manifests/anthropic/privacy-policy/2025-08-29T003202.000Z.json",
            "sha256": hashlib.sha256(head).hexdigest(),
            "sequence": 2,
        },
        "openai/terms": {
            "manifest": "manifests/openai/terms/2024-01-10T120000.000Z.json",
            "sha256": hashlib.sha256(openai).hexdigest(),
            "sequence": 1,
        },
    }
    public_key = get(stack, "checkpoints/public-key.pem").decode()
    verify(signed, signature, public_key)
    der = boto3.client("kms", region_name=REGION).get_public_key(KeyId=key)["PublicKey"]
    assert base64.b64decode("".join(public_key.splitlines()[1:-1])) == der  # KMS's key, as PEM


def test_the_objects_say_what_they_are(stack, key, context):
    run(context)
    kinds = {
        k: (o["ContentType"], o["Metadata"]["sha256"])
        for k in stack.keys("checkpoints/")
        for o in [stack.s3.head_object(Bucket=stack.bucket, Key=k)]
    }
    assert {k: t for k, (t, _) in kinds.items()} == {
        f"checkpoints/{STAMP}.json": "application/json",
        f"checkpoints/{STAMP}.sig": "application/octet-stream",
        "checkpoints/public-key.pem": "application/x-pem-file",
        "checkpoints/latest.json": "application/json",
        "checkpoints/latest.sig": "application/octet-stream",
    }
    assert all(digest == hashlib.sha256(get(stack, k)).hexdigest() for k, (_, digest) in kinds.items())


def test_an_archive_without_chains_gets_a_signed_checkpoint_of_no_heads(stack, key, context):
    assert run(context)["chains"] == 0
    signed = get(stack, "checkpoints/latest.json")
    assert signed == b'{"at":"2026-12-02T15:00:00Z","heads":{},"schema":"policywatch.checkpoint/1"}'
    verify(signed, get(stack, "checkpoints/latest.sig"), get(stack, "checkpoints/public-key.pem"))


def test_a_later_checkpoint_names_the_new_head_and_leaves_the_earlier_one_as_it_was(stack, key, context, monkeypatch):
    manifest(stack, "anthropic/privacy-policy", "2025-08-28T003202.000Z", 1)
    run(context)
    first = get(stack, f"checkpoints/{STAMP}.json")
    manifest(stack, "anthropic/privacy-policy", "2026-12-02T155000.000Z", 2)
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 12, 2, 16, tzinfo=UTC))

    assert run(context)["checkpoint"] == "checkpoints/2026-12-02T160000.000Z.json"

    assert get(stack, f"checkpoints/{STAMP}.json") == first
    latest = get(stack, "checkpoints/latest.json")
    assert read(latest)["heads"]["anthropic/privacy-policy"]["sequence"] == 2
    verify(latest, get(stack, "checkpoints/latest.sig"), get(stack, "checkpoints/public-key.pem"))


def test_a_checkpoint_larger_than_what_kms_signs_raw_is_signed_by_its_digest(stack, key, context):
    for n in range(60):  # about 9 KB of heads: KMS signs at most 4,096 bytes of raw message
        manifest(stack, f"platform-{n:02d}/privacy-policy", "2026-01-01T000000.000Z", n + 1)
    run(context)
    signed = get(stack, "checkpoints/latest.json")
    assert len(signed) > 4096 and len(read(signed)["heads"]) == 60
    verify(signed, get(stack, "checkpoints/latest.sig"), get(stack, "checkpoints/public-key.pem"))


# --- the site's stable addresses -------------------------------------------------------------------


def web(path: str, context, method: str = "GET", **headers: str) -> dict:
    event = copy.deepcopy(SAMPLE)
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["queryStringParameters"], event["rawQueryString"], event["body"] = None, "", ""
    event["headers"] = {"host": "policywatch.test", **headers}
    return web_handler.handler(event, context)


def body(answer: dict) -> bytes:
    raw = answer["body"]
    return base64.b64decode(raw) if answer.get("isBase64Encoded") else raw.encode()


def test_the_site_serves_the_checkpoint_its_signature_and_the_key_byte_for_byte(stack, key, context):
    manifest(stack, "anthropic/privacy-policy", "2025-08-28T003202.000Z", 1)
    run(context)
    served = {}
    for path, key_name, kind, cache in [
        ("/evidence/public-key.pem", "public-key.pem", "application/x-pem-file", "public, max-age=300"),
        ("/evidence/checkpoints/latest.json", "latest.json", "application/json", "public, max-age=300"),
        ("/evidence/checkpoints/latest.sig", "latest.sig", "application/octet-stream", "public, max-age=300"),
        (f"/evidence/checkpoints/{STAMP}.json", f"{STAMP}.json", "application/json", "immutable"),
        (f"/evidence/checkpoints/{STAMP}.sig", f"{STAMP}.sig", "application/octet-stream", "immutable"),
    ]:
        answer = web(path, context)
        assert answer["statusCode"] == 200, path
        assert body(answer) == get(stack, "checkpoints/" + key_name), path
        assert answer["headers"]["Content-Type"] == kind
        assert cache in answer["headers"]["Cache-Control"]
        assert answer["headers"]["X-Content-SHA256"] == hashlib.sha256(body(answer)).hexdigest()
        served[path] = body(answer)
    verify(
        served["/evidence/checkpoints/latest.json"],
        served["/evidence/checkpoints/latest.sig"],
        served["/evidence/public-key.pem"],
    )


def test_an_unchanged_file_is_not_sent_again_and_head_sends_no_body(stack, key, context):
    run(context)
    first = web("/evidence/checkpoints/latest.sig", context)
    again = web("/evidence/checkpoints/latest.sig", context, **{"if-none-match": first["headers"]["ETag"]})
    assert again["statusCode"] == 304 and not again["body"]
    head = web("/evidence/checkpoints/latest.sig", context, method="HEAD")
    assert head["statusCode"] == 200 and body(head) == b"" and head["headers"]["ETag"] == first["headers"]["ETag"]


@pytest.mark.parametrize(
    "path",
    [
        "/evidence/checkpoints/2020-01-01T000000.000Z.json",  # never written
        "/evidence/checkpoints/latest.txt",
        "/evidence/checkpoints/../versions/a/b/2025-08-28T003202.000Z.md",
        "/evidence/manifests/anthropic/privacy-policy/2025-08-28T003202.000Z.json",
        "/evidence/",
    ],
)
def test_nothing_else_is_served_under_evidence(stack, key, context, path):
    manifest(stack, "anthropic/privacy-policy", "2025-08-28T003202.000Z", 1)
    run(context)
    answer = web(path, context)
    assert answer["statusCode"] == 404 and "text/html" in answer["headers"]["Content-Type"]


def test_before_the_first_checkpoint_the_addresses_answer_404(stack, key, context):
    assert web("/evidence/checkpoints/latest.json", context)["statusCode"] == 404
