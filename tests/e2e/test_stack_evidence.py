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


def test_a_professional_downloads_the_pack_from_the_change_page_through_the_site(deployed, tmp_path):
    import time

    import requests

    from policywatch.core.links import Links
    from policywatch.evidence.verify import verify

    s3, bucket = deployed.client("s3"), deployed.outputs["ArchiveBucketName"]
    latest = sorted(
        o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="changes/anthropic/").get("Contents", [])
    )[-1]
    deployed.cli("subscribers", "add", "--active", "--email", "auditor@example.com", "--tier", "professional",
                 "--platform", "anthropic")  # fmt: skip
    table = deployed.outputs["SubscribersTableName"]
    items = deployed.client("dynamodb").scan(TableName=table)["Items"]
    profile = next(
        i for i in items if i.get("email", {}).get("S") == "auditor@example.com" and i["item"]["S"] == "profile"
    )
    change = latest.removeprefix("changes/").removesuffix(".json")
    url = Links(deployed.site_url).pro(
        f"pro/evidence/changes/{change}.zip",
        profile["subscriber_id"]["S"],
        profile["unsubscribe_token"]["S"],
        int(time.time()) + 3600,
    )
    answer = requests.get(url, timeout=60)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/zip", answer.text[:300]
    assert verify(answer.content).versions == 2
    page = requests.get(url.replace("/pro/evidence/changes/", "/pro/changes/").replace(".zip?", "?"), timeout=60)
    assert page.status_code == 200 and f"/pro/evidence/changes/{change}.zip?s=" in page.text
