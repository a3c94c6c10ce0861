"""A signed checkpoint on the local stack: the deployed function signs with the template's KMS key,
the site publishes it, and OpenSSL verifies it as an auditor would.

Forty chains of probe manifests (under ``manifests/e2e-checkpoint-*``: bytes of our own, about
7 KB of heads, more than the 4,096 bytes KMS signs raw) are written to the archive first, so
the checkpoint is signed by its digest, as in production; they are hidden again (delete markers:
the archive is write-once) when the module is done, so no other test lists them.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator

import pytest
import requests

from policywatch.evidence.checkpoint import CheckpointError, read, verify

PROBES = [f"e2e-checkpoint-{n:02d}/privacy-policy" for n in range(40)]


@pytest.fixture(scope="module")
def probes(deployed) -> Iterator[dict[str, bytes]]:
    """Each probe document's head manifest bytes (two manifests per chain)."""
    s3, bucket = deployed.client("s3"), deployed.outputs["ArchiveBucketName"]
    heads, written = {}, []
    try:
        for document in PROBES:
            for sequence, stamp in ((1, "2026-11-01T000000.000Z"), (2, "2026-12-01T000000.000Z")):
                key = f"manifests/{document}/{stamp}.json"
                data = json.dumps({"schema": "policywatch.manifest/1", "document": document, "sequence": sequence})
                s3.put_object(Bucket=bucket, Key=key, Body=data.encode())
                written.append(key)
                heads[document] = data.encode()
        yield heads
    finally:
        for start in range(0, len(written), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in written[start : start + 1000]]})


def fetch(deployed, path: str) -> requests.Response:
    response = requests.get(f"{deployed.site_url}{path}", timeout=30)
    assert response.status_code == 200, f"{path}: {response.status_code}"
    return response


def openssl_verifies(folder, data: bytes, signature: bytes, public_key: bytes) -> subprocess.CompletedProcess:
    for name, content in (("checkpoint.json", data), ("checkpoint.sig", signature), ("public-key.pem", public_key)):
        (folder / name).write_bytes(content)
    command = ["openssl", "dgst", "-sha256", "-verify", "public-key.pem", "-signature", "checkpoint.sig"]
    return subprocess.run([*command, "checkpoint.json"], cwd=folder, capture_output=True, text=True, timeout=30)


def test_the_checkpoint_is_signed_published_and_verified_with_openssl(deployed, probes, tmp_path):
    printed = deployed.cli("checkpoint").stdout
    summary, archived, dated, latest, key_line = printed.splitlines()
    assert summary.startswith("checkpoint of ") and "chain(s) signed at " in summary
    stamp = archived.split("/checkpoints/")[1].split(".json")[0]
    assert dated.split()[1] == f"{deployed.site_url}/evidence/checkpoints/{stamp}.json"
    assert latest.split()[1] == f"{deployed.site_url}/evidence/checkpoints/latest.json"
    assert key_line.split()[1] == f"{deployed.site_url}/evidence/public-key.pem"

    public_key = fetch(deployed, "/evidence/public-key.pem")
    data = fetch(deployed, "/evidence/checkpoints/latest.json")
    signature = fetch(deployed, "/evidence/checkpoints/latest.sig")
    assert public_key.content.startswith(b"-----BEGIN PUBLIC KEY-----\n")
    assert signature.headers["Content-Type"] == "application/octet-stream"
    assert "max-age=300" in data.headers["Cache-Control"]

    checked = openssl_verifies(tmp_path, data.content, signature.content, public_key.content)
    assert checked.returncode == 0 and checked.stdout.strip() == "Verified OK", checked.stdout + checked.stderr
    verify(data.content, signature.content, public_key.text)

    checkpoint = read(data.content)
    assert len(data.content) > 4096  # signed by its digest: KMS signs at most 4,096 bytes raw
    for document, head in probes.items():
        assert checkpoint["heads"][document] == {
            "manifest": f"manifests/{document}/2026-12-01T000000.000Z.json",
            "sha256": hashlib.sha256(head).hexdigest(),
            "sequence": 2,
        }

    dated_data = fetch(deployed, f"/evidence/checkpoints/{stamp}.json")
    dated_signature = fetch(deployed, f"/evidence/checkpoints/{stamp}.sig")
    assert "immutable" in dated_data.headers["Cache-Control"]
    assert (dated_data.content, dated_signature.content) == (data.content, signature.content)


def test_the_published_key_is_the_stacks_kms_key_and_a_tampered_checkpoint_fails(deployed, probes, tmp_path):
    deployed.cli("checkpoint")
    public_key = fetch(deployed, "/evidence/public-key.pem").content
    kms = deployed.client("kms")
    der = kms.get_public_key(KeyId=deployed.outputs["SigningKeyArn"])["PublicKey"]
    checked = subprocess.run(
        ["openssl", "pkey", "-pubin", "-inform", "PEM", "-outform", "DER"], input=public_key, capture_output=True
    )
    assert checked.returncode == 0 and checked.stdout == der
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    assert deployed.outputs["SigningKeyArn"].endswith(aliases["alias/policywatch-e2e-checkpoints"])

    data = fetch(deployed, "/evidence/checkpoints/latest.json").content
    signature = fetch(deployed, "/evidence/checkpoints/latest.sig").content
    tampered = data.replace(b'"sequence":2', b'"sequence":3', 1)
    assert tampered != data
    refused = openssl_verifies(tmp_path, tampered, signature, public_key)
    assert refused.returncode == 1 and "Verification failure" in refused.stdout + refused.stderr
    with pytest.raises(CheckpointError, match="does not verify with this public key"):
        verify(tampered, signature, public_key)
