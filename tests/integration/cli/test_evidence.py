"""`policywatch evidence` builds an audit pack from the archive; `policywatch verify` checks it offline.

A real history (Claude.ai's privacy policy, Open Terms Archive, ODC-By 1.0) is archived as the
fetch stage archives it, chained as it is written; the checkpoint is signed as the checkpoint
function signs it, with a P-256 key made here in place of KMS's. Each tampering a custody
dispute could involve is caught by `verify`, which names the first thing that fails.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import datetime

import boto3
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from policywatch.core import clock
from policywatch.evidence import chain
from policywatch.storage.archive import Archive, sha256
from policywatch_cli.main import main
from tests.helpers.corpus import HISTORIES
from tests.helpers.evidence import sign_checkpoint
from tests.integration.cli.conftest import REGION, create_stack

BUCKET = "policywatch-archive-123456789012-us-east-1"
DOC = "anthropic/privacy-policy"
HISTORY = HISTORIES / "claude-ai-privacy-policy"
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS:UserWarning")


@pytest.fixture
def archived(mocked_aws):
    """Five versions of the history, archived and chained, a change record for the last, a checkpoint."""
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    create_stack("policywatch", {"ArchiveBucketName": BUCKET})
    archive = Archive(BUCKET)
    index = json.loads((HISTORY / "index.json").read_text())["versions"][:5]
    keys = []
    for entry in index:
        moment = datetime.fromisoformat(entry["recorded_at"])
        raw = f"<html><main>{entry['file']}</main></html>".encode()
        snapshot = f"snapshots/{DOC}/{moment.strftime('%Y-%m-%dT%H%M%S')}.000Z.html"
        archive.put(snapshot, raw, "text/html", {"sha256": sha256(raw)})
        metadata = {"source-url": "https://www.anthropic.com/legal/privacy", "fetched-at": clock.iso(moment),
                    "extractor-version": "2", "snapshot-key": snapshot}  # fmt: skip
        keys.append(archive.put_version(DOC, moment, (HISTORY / entry["file"]).read_text(), metadata))
    record = {"change_id": "0123456789abcdef01234567", "platform": "anthropic", "document": "privacy-policy",
              "platform_name": "Anthropic (Claude)", "document_type": "Privacy Policy", "summary": "Changed.",
              "detected_at": "2025-08-29T00:32:02Z", "kind": "substantive", "severity": "high",
              "blocks": [{"op": "modified", "class": "text", "heading": "Training", "before": "will not", "after": "may"}],
              "provisions": [{"id": "model-training", "label": "Model training", "severity": "high"}],
              "evidence": {"previous": {"key": keys[-2]}, "current": {"key": keys[-1]}}}  # fmt: skip
    change = keys[-1].replace("versions/", "changes/").removesuffix(".md") + ".json"
    archive.put_json(change, record)
    key = ec.generate_private_key(ec.SECP256R1())
    sign_checkpoint(archive, key)
    return archive, keys, change


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_change_pack_holds_its_evidence_and_verifies(archived, capsys, tmp_path):
    archive, keys, change = archived
    pack = tmp_path / "pack.zip"
    code, out, err = run(capsys, "evidence", change, "-o", str(pack))
    assert (code, err) == (0, ""), err
    assert "2 version(s), 2 snapshot(s), 1 change record(s), 2 manifest(s), a signed checkpoint" in out
    names = set(zipfile.ZipFile(pack).namelist())
    assert {keys[-2], keys[-1], change, "report/diff.md", "report/provisions.json", "checkpoints/latest.sig"} <= names
    code, out, err = run(capsys, "verify", str(pack))
    assert code == 0 and out.startswith("OK: 2 version(s), 2 snapshot(s), 1 change record(s)\n")
    assert f"chain of {DOC}: manifests #4 to #5, unbroken" in out
    mapping = json.loads(zipfile.ZipFile(pack).read("report/provisions.json"))
    assert mapping[0]["regulatory_mapping"]["checks"]


def test_a_document_pack_over_a_period(archived, capsys, tmp_path):
    pack = tmp_path / "history.zip"
    code, out, _ = run(capsys, "evidence", DOC, "--from", "2000-01-01", "-o", str(pack))
    assert code == 0 and "5 version(s)" in out and "5 manifest(s)" in out
    assert run(capsys, "verify", str(pack))[0] == 0
    code, _, err = run(capsys, "evidence", DOC, "--from", "yesterday", "-o", str(pack))
    assert code == 1 and "--from 'yesterday' is not a date (YYYY-MM-DD)" in err


def rebuild(pack: bytes, edit: Callable[[dict[str, bytes]], None], reindex: bool = True) -> bytes:
    """The pack with ``edit`` applied to its files and, as a careful forger would, pack.json made to match."""
    files = {
        name: zipfile.ZipFile(io.BytesIO(pack)).read(name) for name in zipfile.ZipFile(io.BytesIO(pack)).namelist()
    }
    edit(files)
    if reindex:
        index = json.loads(files["pack.json"])
        index["files"] = [
            {**entry, "sha256": sha256(files[entry["path"]]), "bytes": len(files[entry["path"]])}
            for entry in index["files"]
            if entry["path"] in files
        ] + [
            {"path": name, "role": "manifest" if name.startswith("manifests/") else "version", "bytes": 0,
             "sha256": sha256(files[name])}
            for name in files if name != "pack.json" and name not in {e["path"] for e in index["files"]}
        ]  # fmt: skip
        files["pack.json"] = json.dumps(index).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def history_pack(archived, capsys, tmp_path) -> bytes:
    path = tmp_path / "history.zip"
    assert run(capsys, "evidence", DOC, "-o", str(path))[0] == 0
    return path.read_bytes()


def manifests_of(files: dict[str, bytes]) -> list[str]:
    return sorted(name for name in files if name.startswith("manifests/"))


def versions_of(files: dict[str, bytes]) -> list[str]:
    return sorted(name for name in files if name.startswith("versions/"))


def byte_changed(files):
    name = versions_of(files)[2]
    files[name] = files[name].replace(b"a", b"e", 1)


def snapshot_changed(files):
    name = sorted(n for n in files if n.startswith("snapshots/"))[0]
    files[name] += b" "


def removed(files):
    for name in (manifests_of(files)[2], versions_of(files)[2]):
        del files[name]


def inserted(files):
    first = chain.read(files[manifests_of(files)[1]], "m")
    forged = {**first, "version": first["version"].replace("T", "T0", 1), "text_sha256": "0" * 64}
    files[chain.manifest_key(forged["version"])] = chain.canonical(forged)


def swapped(files):
    a, b = manifests_of(files)[1:3]
    files[a], files[b] = files[b], files[a]


def other_key(files):
    key = ec.generate_private_key(ec.SECP256R1())
    files["checkpoints/latest.sig"] = key.sign(files["checkpoints/latest.json"], ec.ECDSA(hashes.SHA256()))


def lacking(files):
    del files[versions_of(files)[0]]


@pytest.mark.parametrize(
    ("tamper", "reindex", "says"),
    [
        (byte_changed, True, "does not match its manifest: SHA-256"),
        (snapshot_changed, True, "does not match the SHA-256 its manifest recorded"),
        (removed, True, "does not follow"),
        (inserted, True, "does not follow"),
        (swapped, True, "does not follow"),
        (other_key, True, "signature does not verify with this public key"),
        (lacking, False, "lists versions/anthropic/privacy-policy/"),
        (byte_changed, False, "(the file was altered)"),
    ],
)
def test_verify_names_the_first_thing_a_tampered_pack_breaks(archived, capsys, tmp_path, tamper, reindex, says):
    tampered = tmp_path / "tampered.zip"
    tampered.write_bytes(rebuild(history_pack(archived, capsys, tmp_path), tamper, reindex))
    code, out, err = run(capsys, "verify", str(tampered))
    assert code == 1 and out == "" and err.count("\n") == 1, err
    assert says in err and "Traceback" not in err


def test_verify_with_an_auditors_own_key_and_bad_files(archived, capsys, tmp_path):
    pack = tmp_path / "history.zip"
    pack.write_bytes(history_pack(archived, capsys, tmp_path))
    stranger = tmp_path / "stranger.pem"
    stranger.write_bytes(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    code, _, err = run(capsys, "verify", str(pack), "--key", str(stranger))
    assert code == 1 and "does not verify with this public key" in err
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"\x89PNG not a zip")
    assert "not a readable zip file" in run(capsys, "verify", str(garbage))[2]


def test_chain_links_versions_archived_before_chains_existed(mocked_aws, capsys):
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    create_stack("policywatch", {"ArchiveBucketName": BUCKET})
    archive = Archive(BUCKET)
    for n in range(3):  # as an archive from before chains: versions, no manifests
        body = f"text {n}".encode()
        archive.put(f"versions/{DOC}/2024-0{n + 1}-01T000000.000Z.md", body, "text/markdown", {"sha256": sha256(body)})
    code, out, _ = run(capsys, "chain")
    assert code == 0 and f"{DOC}: 3 version(s) chained" in out and "3 manifest(s) written over 1 document(s)" in out
    assert len(chain.check([(k, archive.get(k)) for k in archive.keys(f"manifests/{DOC}/")])) == 3
    assert run(capsys, "chain", DOC)[1].startswith("0 manifest(s) written")  # nothing twice
    code, _, err = run(capsys, "chain", "not a document")
    assert code == 1 and "'not a document' is not PLATFORM/DOCUMENT" in err
