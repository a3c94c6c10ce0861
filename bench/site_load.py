"""The tuning set loaded into a deployed stack by the pipeline's own code (for ``bench.site``).

The histories come from ``../shared/corpus/genai-contrib.bundle`` (Open Terms Archive GenAI
Contrib versions, ODC-By 1.0), cloned into ``.local/bench/site/`` (again whenever the bundle is
newer than the clone) and read with ``bench.signal.histories``: each file ``Service/Document
type.md`` is a document, each commit touching it one recorded version, oldest first.

A bundle document becomes ``{slug of the service}/{document id of its type}`` (``Claude.ai/Privacy
Policy`` -> ``claude-ai/privacy-policy``); the services are declared as the catalog override
(``config/catalog.json``), which the site reads as the catalog, with the page URL Open Terms
Archive declares for the document (``catalog-facts.json``) where it has one (the selectors do
not matter: nothing is fetched).

Each recorded version goes through what the fetch stage and the diff stage do with a fetched
text: the extraction checks (``check_text``, with the document's previous size and notice) and
the fingerprint decide, as the archivist does, whether it is archived (``Archive.put_version``,
with the archivist's metadata); each archived version is then diffed by
``changes.process_version(..., site=SiteIndex)``, which writes the change record and the site's
read model. Documents load in parallel (processes of threads), each document's versions in order. The change
topic is left out (a counting stand-in): publishing would start the notify stage, which is not
what is measured here.
"""

from __future__ import annotations

import json
import multiprocessing
import re
import shutil
import subprocess
import sys
import threading
import time
import unicodedata
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.signal import BUNDLE, History, histories
from policywatch.analysis.changes import process_version
from policywatch.analysis.site import stamp_of
from policywatch.catalog import document_id
from policywatch.core import clock
from policywatch.fetch.extraction.checks import EXTRACTOR_VERSION, ExtractionError, check_text
from policywatch.fetch.settings import ArchivistSettings
from policywatch.storage.archive import CATALOG_KEY, Archive
from policywatch.storage.documents import DocumentState, DocumentStates
from policywatch.storage.site import SiteIndex
from policywatch.storage.topics import Topic
from policywatch.text.noise import fingerprint, normalise

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".local" / "bench" / "site"
FACTS = ROOT.parent / "shared" / "corpus" / "catalog-facts.json"
# Bundle folder names that catalog-facts.json spells otherwise.
FACT_NAMES = {"Kimi AI": "Kimi", "SambaNova": "SambaNova Systems", "Wenxinyiyan": "文心一言", "Doubao": "豆包"}


def slug(name: str) -> str:
    """'Claude.ai' -> 'claude-ai', 'DALL·E' -> 'dall-e' (a catalog id: lowercase words joined by '-')."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name.lower()) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


@dataclass(frozen=True)
class Source:
    """One bundle document, as the stack knows it."""

    name: str  # "Claude.ai/Privacy Policy"
    service: str
    platform: str
    document: str
    document_type: str
    url: str
    history: History = field(repr=False)

    @property
    def key(self) -> str:
        return f"{self.platform}/{self.document}"


def clone() -> Path:
    """The bundle cloned into .local/bench/site (again when the bundle is newer than the clone)."""
    if not BUNDLE.exists():
        sys.exit(f"site: {BUNDLE} is missing: the bench needs ../shared beside the project")
    folder = WORK / "genai-contrib"
    if (folder / ".git").exists() and (folder / ".git").stat().st_mtime < BUNDLE.stat().st_mtime:
        shutil.rmtree(folder)
    if not (folder / ".git").exists():
        WORK.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "clone", "--quiet", str(BUNDLE), str(folder)], check=True)
    return folder


def sources() -> list[Source]:
    """Every document of the bundle, with its history (recorded versions, oldest first)."""
    facts = {(f["service"], f["document_type"]): f for f in json.loads(FACTS.read_text())}
    found = []
    for name, history in sorted(histories(clone()).items()):
        service, document_type = name.split("/", 1)
        fact = facts.get((FACT_NAMES.get(service, service), document_type))
        platform, document = slug(service), document_id(document_type)
        url = fact["pages"][0]["url"] if fact else f"https://{platform}.example/{document}"
        found.append(Source(name, service, platform, document, document_type, url, history))
    return found


def catalog(documents: list[Source]) -> dict[str, Any]:
    """The catalog override declaring every bundle service and its documents."""
    platforms: dict[str, dict[str, Any]] = {}
    for source in documents:
        platform = platforms.setdefault(
            source.platform,
            {"id": source.platform, "name": source.service, "operator": source.service, "documents": []},
        )
        platform["documents"].append({"type": source.document_type, "pages": [{"url": source.url, "select": ["main"]}]})
    return {"platforms": list(platforms.values())}


# ---------------------------------------------------------------------------- the fetch stage's gate


@dataclass(frozen=True)
class Kept:
    """A recorded version the archivist archives."""

    seq: int
    moment: datetime
    text: str
    fingerprint: str


def archivable(history: History, min_chars: int) -> tuple[list[Kept], Counter[str]]:
    """The versions the archivist would archive, and why the others were not: ``check_text`` with
    the document's last good size and notice (a collapse counted over fetches in a row), then a
    fingerprint equal to the last archived one is no new version (``fetch.archivist``)."""
    kept: list[Kept] = []
    skipped: Counter[str] = Counter()
    last_chars: int | None = None
    notice: str | None = None
    collapsed = 0
    for seq, recorded_at, text in history:
        normalised = normalise(text)
        try:
            checked = check_text(text, min_chars=min_chars, previous_chars=last_chars, normalised=normalised,
                                 collapsed_before=collapsed, previous_notice=notice)  # fmt: skip
        except ExtractionError as exc:
            collapsed = collapsed + 1 if exc.kind == "text-collapsed" else 0
            skipped["refused"] += 1
            continue
        collapsed, last_chars, notice = 0, checked.chars, checked.notice
        current = fingerprint(text, normalised=normalised)
        if kept and current == kept[-1].fingerprint:
            skipped["unchanged"] += 1
            continue
        kept.append(Kept(seq, datetime.fromisoformat(recorded_at), text, current))
    return kept, skipped


# ---------------------------------------------------------------------------- loading


class CountingTopic(Topic):
    """The change topic's stand-in: counts what the diff stage publishes, sends nothing."""

    def __init__(self) -> None:
        super().__init__("arn:aws:sns:us-east-1:000000000000:bench-site-untold")
        self.published = 0
        self._lock = threading.Lock()

    def publish(self, message: str, *, subject: str | None = None, attributes: Any = None) -> str:
        with self._lock:
            self.published += 1
            return f"bench-{self.published}"


@dataclass(frozen=True)
class Change:
    """A change record, as much of it as the bench needs to find its pages."""

    platform: str
    document: str
    document_type: str
    stamp: str
    previous_stamp: str
    kind: str
    alert: bool
    severity: str
    categories: tuple[str, ...]

    @classmethod
    def of(cls, record: dict[str, Any]) -> Change:
        current, previous = record["evidence"]["current"]["key"], record["evidence"]["previous"]["key"]
        return cls(
            record["platform"],
            record["document"],
            record["document_type"],
            stamp_of(current),
            stamp_of(previous),
            record["kind"],
            record["alert"],
            record["severity"],
            tuple(record["categories"]),
        )


@dataclass
class Part:
    """What one loader process did."""

    archived: dict[str, list[str]] = field(default_factory=dict)  # document key -> version stamps, oldest first
    changes: list[Change] = field(default_factory=list)  # every change record written
    skipped: Counter[str] = field(default_factory=Counter)
    cpu_seconds: float = 0.0


@dataclass
class Loaded:
    """What loading the tuning set did."""

    documents: list[Source]
    archived: dict[str, list[str]] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # of the loader processes (their threads), not MiniStack's
    processes: int = 0
    threads: int = 0

    @property
    def recorded(self) -> int:
        return sum(len(source.history) for source in self.documents)

    @property
    def alerts(self) -> list[Change]:
        return [change for change in self.changes if change.alert]


def weight(source: Source) -> int:
    return sum(len(text) for _, _, text in source.history)


def partition(documents: list[Source], parts: int) -> list[list[Source]]:
    """``documents`` dealt into ``parts`` lists of about the same text to load, the longest first in each."""
    dealt: list[list[Source]] = [[] for _ in range(max(parts, 1))]
    loads = [0] * len(dealt)
    for source in sorted(documents, key=weight, reverse=True):
        lightest = loads.index(min(loads))
        dealt[lightest].append(source)
        loads[lightest] += weight(source)
    return [part for part in dealt if part]


def load(
    documents: list[Source], *, bucket: str, site_table: str, documents_table: str, processes: int, threads: int
) -> Loaded:
    """Write the catalog override, then archive and diff every document's versions: ``processes``
    loader processes (this machine's cores; one Python runs one core at a time) of ``threads``
    threads each, a thread loading one document at a time, its versions in order."""
    Archive(bucket).put(CATALOG_KEY, json.dumps(catalog(documents)).encode(), "application/json", {})
    started = time.perf_counter()
    parts = partition(documents, processes)
    stores = (bucket, site_table, documents_table)
    context = multiprocessing.get_context("fork")  # the children inherit the stack's environment
    with ProcessPoolExecutor(max_workers=len(parts), mp_context=context) as pool:
        done = list(pool.map(load_part, parts, [stores] * len(parts), [threads] * len(parts), range(1, len(parts) + 1)))
    loaded = Loaded(documents, seconds=time.perf_counter() - started, processes=len(parts), threads=threads)
    for part in done:
        loaded.archived.update(part.archived)
        loaded.changes += part.changes
        loaded.skipped.update(part.skipped)
        loaded.cpu_seconds += part.cpu_seconds
    # In a fixed order, whichever thread finished first: the bench's random samples repeat run to run.
    loaded.archived = dict(sorted(loaded.archived.items()))
    loaded.changes.sort(key=lambda change: (change.platform, change.document, change.stamp))
    return loaded


def load_part(documents: list[Source], stores: tuple[str, str, str], threads: int, number: int) -> Part:
    """Load ``documents`` in this process, ``threads`` at a time (a loader process's work)."""
    from policywatch.storage import clients as aws

    aws.reset()  # clients are not shared across a fork
    bucket, site_table, documents_table = stores
    archive, site, states = Archive(bucket), SiteIndex(site_table), DocumentStates(documents_table)
    topic = CountingTopic()
    min_chars = ArchivistSettings.from_env().min_text_chars
    part = Part()
    lock = threading.Lock()
    started, cpu = time.perf_counter(), time.process_time()

    def one(source: Source) -> None:
        kept, skipped = archivable(source.history, min_chars)
        stamps, records = [], []
        for version in kept:
            meta = {
                "source-url": source.url,
                "fetched-at": clock.iso(version.moment),
                "document-type": source.document_type,
                "extractor-version": EXTRACTOR_VERSION,
                "fingerprint": version.fingerprint,
            }
            key = archive.put_version(source.key, version.moment, version.text, meta)
            record = process_version(archive, key, topic, now=version.moment, site=site)
            stamps.append(stamp_of(key))
            if record is not None:
                records.append(Change.of(record))
        states.put(  # the document's health, as the fetch stage leaves it after its last fetch
            DocumentState(
                source.key,
                fingerprint=kept[-1].fingerprint if kept else None,
                text_chars=len(normalise(kept[-1].text)) if kept else None,
                last_success_at=clock.iso(datetime.fromisoformat(source.history[-1][1])),
                last_change_at=clock.iso(kept[-1].moment) if kept else None,
                last_version_key=f"versions/{source.key}/{stamps[-1]}.md" if stamps else None,
            )
        )
        with lock:
            part.archived[source.key] = stamps
            part.changes += records
            part.skipped.update(skipped)
            count = len(part.archived)
            if count % 20 == 0 or count == len(documents):
                elapsed = time.perf_counter() - started
                print(
                    f"  loader {number}: {count}/{len(documents)} documents, {elapsed:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, documents))
    part.cpu_seconds = time.process_time() - cpu
    return part
