"""Sweep rules: which documents to fetch now, and one fetch job per document on the queue.

The fetch queue is FIFO, and its message group is what keeps us polite: each document is
put in one of ``HOST_CONCURRENCY`` groups of its host (round robin), and SQS never hands
out a group's next message while one is in flight. So however far the fetch function
scales, a host sees at most ``HOST_CONCURRENCY`` requests at once, and a Retry-After that
defers one job holds back that group's next ones too.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from urllib.parse import urlsplit

from policywatch.catalog import Catalog, Document, load_packaged, parse_catalog_json
from policywatch.core.errors import TransientError
from policywatch.storage.archive import CATALOG_KEY, Archive
from policywatch.storage.queues import Message, Queue


class SweepError(TransientError):
    """Some fetch jobs could not be enqueued."""


def current_catalog(archive: Archive) -> Catalog:
    """The operator's override in the archive bucket if present, else the packaged catalog."""
    override = archive.get_optional(CATALOG_KEY)
    if override is None:
        return load_packaged()
    return parse_catalog_json(override, f"s3://{archive.bucket}/{CATALOG_KEY}")


def host_of(document: Document) -> str:
    return (urlsplit(document.pages[0].url).hostname or "unknown").lower()


def message_groups(documents: list[Document], per_host: int) -> dict[str, str]:
    """document key -> message group ``host#slot``, the slots dealt round robin per host."""
    seen: dict[str, int] = defaultdict(int)
    groups = {}
    for document in sorted(documents, key=lambda d: d.key):
        host = host_of(document)
        groups[document.key] = f"{host}#{seen[host] % max(per_host, 1)}"
        seen[host] += 1
    return groups


def job(document: Document, sweep: str) -> str:
    """A fetch job: the document's declaration and the sweep it belongs to."""
    return json.dumps({**document.to_dict(), "sweep": sweep})


def enqueue(catalog: Catalog, queue: Queue, *, sweep: str, per_host: int = 2, render_queue: Queue | None = None) -> int:
    """Send one job per document, those declared ``render: browser`` to ``render_queue`` when
    there is one; raise if any job was refused.

    The deduplication id is per sweep and document: a sweep invoked twice (an at-least-once
    schedule, a retried invocation) enqueues each document once. A host's slots are dealt over
    all its documents, whichever queue each goes to: on each queue the host has at most
    ``per_host`` groups, so each function sends it at most that many requests at once.
    """
    documents = catalog.documents()
    groups = message_groups(documents, per_host)
    by_queue: dict[int, tuple[Queue, list[Document]]] = {}
    for doc in documents:
        target = render_queue if render_queue is not None and doc.render == "browser" else queue
        by_queue.setdefault(id(target), (target, []))[1].append(doc)
    failed = []
    for target, docs in by_queue.values():
        messages = [
            Message(
                job(doc, sweep),
                group_id=groups[doc.key],
                deduplication_id=hashlib.sha256(f"{sweep}:{doc.key}".encode()).hexdigest()[:64],
            )
            for doc in docs
        ]
        failed += [f"{docs[index].key}: {reason}" for index, reason in target.send_batch(messages)]
    if failed:
        raise SweepError(f"{len(failed)} of {len(documents)} fetch jobs not enqueued: {'; '.join(failed)}")
    return len(documents)
