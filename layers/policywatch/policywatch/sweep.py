"""Sweep rules: which documents to fetch now, and one fetch job per document on the queue."""

from __future__ import annotations

import json

from policywatch import aws
from policywatch.archive import CATALOG_KEY, Archive
from policywatch.catalog import Catalog, load_packaged, parse_catalog_json

BATCH = 10  # SQS SendMessageBatch limit


class SweepError(RuntimeError):
    """Some fetch jobs could not be enqueued."""


def current_catalog(archive: Archive) -> Catalog:
    """The operator's override in the archive bucket if present, else the packaged catalog."""
    override = archive.get_optional(CATALOG_KEY)
    if override is None:
        return load_packaged()
    return parse_catalog_json(override, f"s3://{archive.bucket}/{CATALOG_KEY}")


def enqueue(catalog: Catalog, queue_url: str) -> int:
    """Send one job per document, ten to a batch; raise if any job was refused."""
    documents = catalog.documents()
    sqs = aws.client("sqs")
    failed: list[str] = []
    for start in range(0, len(documents), BATCH):
        batch = documents[start : start + BATCH]
        response = sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "MessageBody": json.dumps(doc.to_dict())} for i, doc in enumerate(batch)],
        )
        failed.extend(
            f"{batch[int(f['Id'])].key}: {f.get('Message', f.get('Code'))}" for f in response.get("Failed", [])
        )
    if failed:
        raise SweepError(f"{len(failed)} of {len(documents)} fetch jobs not enqueued: {'; '.join(failed)}")
    return len(documents)
