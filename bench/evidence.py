"""Benchmark: an audit pack of one document's whole history, built and verified.

    .venv/bin/python -m bench.evidence [--history claude-ai-privacy-policy] [--runs 5]

One run, in-process against moto (no network): every version of the history (Open Terms
Archive, ../shared/corpus/histories, ODC-By 1.0; the Claude.ai privacy policy has 68) is archived
by ``Archive.put_version`` (each chained as it is written) with a raw snapshot of its own, a
checkpoint of the chain is signed with a P-256 key made here (as the checkpoint function signs
with KMS), and ``policywatch evidence`` builds the pack of the whole document. Then ``verify``
checks it ``--runs`` times: every file's SHA-256 against ``pack.json``, the chain, each version
and snapshot against its manifest, the checkpoint's signature and head.

Printed: versions, the pack's size (bytes, and against the versions' own bytes), the time to
archive and chain the history (per version), to build the pack, and to verify it (median of the
runs, and per version). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import warnings
from datetime import datetime
from pathlib import Path

import boto3
from cryptography.hazmat.primitives.asymmetric import ec
from moto import mock_aws

from policywatch.core import clock
from policywatch.evidence.verify import verify
from policywatch.storage import clients
from policywatch.storage.archive import Archive, sha256
from policywatch_cli.main import main as cli
from tests.helpers.corpus import HISTORIES
from tests.helpers.evidence import sign_checkpoint

BUCKET = "policywatch-archive-123456789012-us-east-1"
REGION = "us-east-1"


def run(history: str, runs: int) -> None:
    folder = HISTORIES / history
    versions = json.loads((folder / "index.json").read_text())["versions"]
    index = json.loads((folder / "index.json").read_text())
    document = f"{index.get('platform', 'bench')}/{index.get('document', history)}".lower()
    document = document if document.count("/") == 1 else f"bench/{history}"
    with mock_aws():
        clients.reset()
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        outputs = {"ArchiveBucketName": {"Value": BUCKET}}
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName="policywatch",
            TemplateBody=json.dumps({"Resources": {"Nothing": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
                                     "Outputs": outputs}),
        )  # fmt: skip
        archive = Archive(BUCKET)
        started = time.perf_counter()
        text_bytes = 0
        for entry in versions:
            moment = datetime.fromisoformat(entry["recorded_at"])
            text = (folder / entry["file"]).read_text()
            text_bytes += len(text.encode())
            snapshot = f"snapshots/{document}/{moment.strftime('%Y-%m-%dT%H%M%S')}.000Z.html"
            raw = f"<html><main>{text}</main></html>".encode()
            archive.put(snapshot, raw, "text/html", {"sha256": sha256(raw)})
            metadata = {"source-url": "https://example.com/policy", "fetched-at": clock.iso(moment),
                        "extractor-version": "2", "snapshot-key": snapshot}  # fmt: skip
            archive.put_version(document, moment, text, metadata)
        chained = time.perf_counter() - started
        sign_checkpoint(archive, ec.generate_private_key(ec.SECP256R1()))
        with tempfile.TemporaryDirectory() as tmp:
            pack = Path(tmp) / "pack.zip"
            started = time.perf_counter()
            code = cli(["evidence", document, "-o", str(pack)])
            built = time.perf_counter() - started
            assert code == 0
            data = pack.read_bytes()
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            verified = verify(data)
            timings.append(time.perf_counter() - started)
        clients.reset()
    median = statistics.median(timings)
    print(f"history {history}: {len(versions)} versions, {text_bytes:,} bytes of text")
    print(f"  archive and chain: {chained:.2f} s ({chained / len(versions) * 1000:.1f} ms a version, moto)")
    print(f"  pack: {len(data):,} bytes ({len(data) / text_bytes:.2f}x the versions' bytes: versions, snapshots,")
    print(f"        manifests, checkpoint, deflated), built in {built:.2f} s")
    print(
        f"  verify: median {median * 1000:.0f} ms over {runs} runs ({median / len(versions) * 1000:.2f} ms a version)"
    )
    print("  " + verified.lines()[0])


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.evidence", description=__doc__.split("\n")[0])
    parser.add_argument("--history", default="claude-ai-privacy-policy")
    parser.add_argument("--runs", type=int, default=5)
    return parser.parse_args()


if __name__ == "__main__":
    warnings.filterwarnings("ignore", "Tried to parse")  # moto's stand-in stack has a resource it does not model
    os.environ.update({"AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    arguments = parse()
    run(arguments.history, arguments.runs)
