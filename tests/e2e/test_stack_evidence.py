"""After the demo change (test_stack.py, which runs first), an audit pack of it from the deployed stack.

`policywatch evidence` makes a checkpoint with the deployed checkpoint function (KMS signs it on
MiniStack) and gathers the pack; `policywatch verify` accepts it offline, and rejects a copy with
one byte of the new version changed.
"""

from __future__ import annotations

import io
import json
import zipfile

from policywatch.evidence.chain import sha256


def test_the_demo_change_packs_and_verifies_and_a_tampered_copy_fails(deployed, tmp_path):
    s3, bucket = deployed.client("s3"), deployed.outputs["ArchiveBucketName"]
    changes = sorted(
        o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="changes/anthropic/").get("Contents", [])
    )
    assert changes, "test_stack.py's demo change is recorded first"
    pack = tmp_path / "change.zip"
    made = deployed.cli("evidence", changes[-1], "-o", str(pack))
    assert "2 version(s)" in made.stdout and "a signed checkpoint" in made.stdout
    verified = deployed.cli("verify", str(pack))
    assert verified.stdout.startswith("OK: 2 version(s)") and "signature verified" in verified.stdout

    files = {name: zipfile.ZipFile(pack).read(name) for name in zipfile.ZipFile(pack).namelist()}
    index = json.loads(files["pack.json"])
    newest = max(entry["path"] for entry in index["files"] if entry["role"] == "version")
    files[newest] = files[newest].replace(b"train", b"trane", 1)
    for entry in index["files"]:  # a careful forger makes pack.json match: the chain still catches it
        entry["sha256"] = sha256(files[entry["path"]])
    files["pack.json"] = json.dumps(index).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as forged:
        for name, data in files.items():
            forged.writestr(name, data)
    tampered = tmp_path / "tampered.zip"
    tampered.write_bytes(out.getvalue())
    refused = deployed.cli("verify", str(tampered), check=False)
    assert refused.returncode == 1 and f"{newest} does not match its manifest" in refused.stderr
