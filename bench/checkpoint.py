"""Benchmark: build and sign a checkpoint of 500 hash chains (issue 17), on moto, in one run.

    .venv/bin/python -m bench.checkpoint [--chains 500] [--versions 10]

An archive of ``--chains`` documents with ``--versions`` manifests each (500 x 10 = 5,000 keys
under ``manifests/``, manifests of about 700 bytes, as ``evidence.chain`` writes them) and the
stack's signing key (ECC_NIST_P256) are made in moto. Then the checkpoint function's handler runs
once, as its schedule runs it, and is timed end to end: one paginated listing of ``manifests/``,
the 500 heads read (``checkpoint.READERS`` at a time) and hashed, the canonical payload built,
signed by KMS (its SHA-256, ``MessageType=DIGEST``), and the five objects written. The same steps
are then timed one by one on the same archive for the breakdown, and the published signature is
verified with the published public key.

moto answers in-process (an S3 GET in about a millisecond, where AWS takes 10 to 30 ms from
Lambda), so the listing and reads are the floor, not a forecast: in AWS, 500 heads read 16 at a
time are about 32 rounds of one GET, well under a second. KMS's Sign is one call either way.
Nothing is asserted: the figures are printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "POWERTOOLS_SERVICE_NAME": "policywatch",
        "POWERTOOLS_METRICS_NAMESPACE": "policywatch",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "POWERTOOLS_METRICS_DISABLED": "true",  # no EMF line in the bench's output
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)

BUCKET = "policywatch-archive-bench"


@contextlib.contextmanager
def _stack() -> Iterator[str]:
    """moto with the archive bucket and the signing key; the key's ARN."""
    import boto3
    from moto import mock_aws

    from policywatch.storage import clients as aws
    from tests.integration.evidence.moto_kms import digests_signed_as_kms_does

    with mock_aws(), digests_signed_as_kms_does():
        aws.reset()
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        key = boto3.client("kms").create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
        os.environ.update({"ARCHIVE_BUCKET": BUCKET, "SIGNING_KEY_ARN": key})
        yield key
        aws.reset()


def _seed(chains: int, versions: int) -> None:
    """``chains`` documents of ``versions`` manifests each, shaped like evidence.chain's."""
    from policywatch.evidence.chain import canonical, sha256
    from policywatch.storage.archive import stamp
    from policywatch.storage.clients import client

    s3 = client("s3")
    for n in range(chains):
        document, previous = f"platform-{n // 3:03d}/document-{n % 3}", None
        for sequence in range(1, versions + 1):
            at = stamp(datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=30 * sequence, minutes=n))
            manifest = {
                "schema": "policywatch.manifest/1",
                "document": document,
                "sequence": sequence,
                "previous": previous,
                "version": f"versions/{document}/{at}.md",
                "text_sha256": "a" * 64,
                "snapshots": [{"key": f"snapshots/{document}/{at}.html", "sha256": "b" * 64}],
                "fetched_at": at,
                "source_url": f"https://{document.split('/')[0]}.example/{document.split('/')[1]}",
                "requested_url": f"https://{document.split('/')[0]}.example/{document.split('/')[1]}",
                "extractor_version": "1",
                "origin": "fetch",
                "chained_at": at,
            }
            data = canonical(manifest)
            s3.put_object(Bucket=BUCKET, Key=f"manifests/{document}/{at}.json", Body=data)
            previous = sha256(data)


def _breakdown(key_arn: str) -> dict[str, float]:
    """The handler's steps timed one by one (seconds)."""
    from policywatch.evidence import checkpoint
    from policywatch.storage.archive import Archive
    from policywatch.storage.signing import Signer

    archive, signer, times = Archive(BUCKET), Signer(key_arn), {}
    start = time.perf_counter()
    keys = archive.keys(checkpoint.MANIFESTS)
    times["list manifests/"] = time.perf_counter() - start
    start = time.perf_counter()
    heads = checkpoint.read_heads(checkpoint.head_keys(keys), archive.get)
    times["read and hash the heads"] = time.perf_counter() - start
    start = time.perf_counter()
    signed = checkpoint.payload(heads, datetime.now(UTC))
    times["build the payload"] = time.perf_counter() - start
    start = time.perf_counter()
    signer.sign(signed)
    times["sign (KMS)"] = time.perf_counter() - start
    start = time.perf_counter()
    signer.public_key_pem()
    times["public key (KMS)"] = time.perf_counter() - start
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chains", type=int, default=500)
    parser.add_argument("--versions", type=int, default=10, help="manifests per chain")
    args = parser.parse_args()

    from functions.evidence import checkpoint_handler
    from policywatch.evidence.checkpoint import read, verify
    from policywatch.storage.archive import Archive
    from tests.helpers.events import LambdaContext

    with _stack() as key_arn:
        _seed(args.chains, args.versions)
        start = time.perf_counter()
        result = checkpoint_handler.handler({}, LambdaContext())
        elapsed = time.perf_counter() - start
        archive = Archive(BUCKET)
        signed = archive.get("checkpoints/latest.json")
        verify(signed, archive.get("checkpoints/latest.sig"), archive.get("checkpoints/public-key.pem"))
        assert len(read(signed)["heads"]) == args.chains == result["chains"]
        steps = _breakdown(key_arn)

    print(f"checkpoint of {result['chains']} chains ({args.chains * args.versions} manifests listed), on moto")
    print(f"  payload: {len(signed):,} bytes; signature verified with the published public key")
    print(f"  the handler, end to end (list, read, build, sign, write 5 objects): {elapsed * 1000:.0f} ms")
    for step, seconds in steps.items():
        print(f"    {step:<26} {seconds * 1000:8.1f} ms")
    print(json.dumps({"chains": result["chains"], "handler_ms": round(elapsed * 1000), "payload_bytes": len(signed)}))


if __name__ == "__main__":
    main()
