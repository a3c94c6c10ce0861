"""Benchmark: the public site on the whole tuning set, served on request behind CloudFront, against static pages.

    .venv/bin/python -m bench.site [--requests 40] [--processes 2] [--threads 3] [--changes 20] [--seed 15]

One run, on a MiniStack of its own (free port, temporary state, stopped at the end even on failure):

1. **Stack and data.** ``sam build`` and ``sam deploy`` of the real template (SchedulesState
   DISABLED), as the e2e tests do; the archive bucket's S3 notification is removed so that the
   deployed diff function does not race the loader. The whole tuning set
   (``../shared/corpus/genai-contrib.bundle``, Open Terms Archive GenAI Contrib, ODC-By 1.0) is
   then loaded by the pipeline's own code (``bench.site_load``: the archivist's checks and
   fingerprint decide what is archived, ``Archive.put_version`` archives it and
   ``changes.process_version`` diffs it and writes the change record and the site's read model),
   documents in parallel (a loader process per core, of a few threads each), each document's
   versions in order.
2. **Warm, on request.** Each page type, feed and API route is requested ``--requests`` times
   (after 3 uncounted warm-up requests) on real paths drawn at random from what was loaded,
   one request at a time, through MiniStack's CloudFront data plane (HTTP to MiniStack's port
   with the distribution's ``Host`` and ``X-Forwarded-Proto: https``), or through the function
   URL when the data plane does not answer (the output says which). MiniStack does not model
   CloudFront's cache: every request reaches the web function, so these are the figures of a
   cache miss (what CloudFront would serve from its cache takes none of the function's time).
   Printed: p50 and p95 in ms, the median body in bytes (as served, uncompressed; and gzipped
   here, roughly what CloudFront's compression sends), and p95 against the targets of issue 15
   (pages under 300 ms, feeds and API under 200 ms).
3. **Growth with versions.** The document page and the document's versions API, grouped by the
   document's archived versions, with the read-model items, requests and archive reads one
   request makes (counted in-process on the same code with botocore's event hooks).
4. **The alternative: static pages written to S3 on each change**, measured on the same data
   with the same code run by the bench itself (the web handler's routers, ``api``, ``feeds`` and
   ``views``, on a ``Site`` reading MiniStack): (a) the whole site (every page and feed, not the
   API) rendered and PUT to a bucket, in a process per core; (b) the pages one new alerting change
   makes stale, rendered and PUT one after another as a diff function would, over a sample of
   changes (median); (c) the compare pairs a static site would have to pre-render.

Nothing is asserted: the figures are printed. This machine's 2 cores run MiniStack, the web
function and the bench together; a Lambda at 1,024 MB has about 0.6 vCPU of its own.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import http.client
import importlib.metadata
import math
import multiprocessing
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from devstack.ministack import MiniStack, StackError, build, chromium_path, deploy, free_port

if TYPE_CHECKING:
    from bench.site_load import Change, Loaded
    from policywatch.web.pages import PageResponse
    from policywatch.web.site import Site

ROOT = Path(__file__).resolve().parent.parent
STACK = "policywatch-bench-site"
SENDER = "alerts@policywatch.bench"
STATIC_BUCKET = "policywatch-bench-static"
WARMUP = 3
READ_SAMPLES = 5  # paths of each type whose reads are counted in-process
TARGET_MS = {"page": 300.0, "feed": 200.0, "api": 200.0}
SEVERITIES = ("low", "medium", "high")
GROWTH_BUCKETS = ((1, 10), (11, 30), (31, 100), (101, 10**9))

ENVIRONMENT = {  # set by main() before the pipeline's modules are imported (their loggers read it)
    "POWERTOOLS_SERVICE_NAME": "policywatch",
    "POWERTOOLS_METRICS_NAMESPACE": "policywatch",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


# ---------------------------------------------------------------------------- figures


def percentile(values: list[float], share: float) -> float:
    """Nearest rank (as bench.render)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def bucket_of(versions: int) -> str:
    """The growth group of a document with this many archived versions: '1-10', ..., '>100'."""
    for low, high in GROWTH_BUCKETS:
        if low <= versions <= high:
            return f">{low - 1}" if high >= 10**9 else f"{low}-{high}"
    return "0"


def compare_pairs(versions: list[int]) -> int:
    """The compare pages a static site would pre-render: every unordered pair of each document's versions."""
    return sum(n * (n - 1) // 2 for n in versions)


def stale_pages(change: Change, previous_change: str | None) -> list[str]:
    """What a new change makes stale on a static site: the home page, its platform, its document,
    the change and its version, the previous change of the document (its "next" link), the
    comparison and timeline of each of its provision categories and the index, and every feed
    it is listed in. A lower bound: a new version also rewrites the document's quotes in the
    comparison of categories the change did not touch, and the home page's filtered views."""
    doc = f"{change.platform}/{change.document}"
    pages = ["/", f"/platforms/{change.platform}", f"/documents/{doc}", f"/changes/{doc}/{change.stamp}"]
    pages.append(f"/documents/{doc}/versions/{change.stamp}")
    if previous_change:
        pages.append(f"/changes/{doc}/{previous_change}")
    pages.append("/provisions")
    for category in change.categories:
        pages += [f"/provisions/{category}", f"/timeline/{category}", f"/feeds/provisions/{category}.atom"]
    pages += ["/feeds/changes.atom", f"/feeds/platforms/{change.platform}.atom", f"/feeds/documents/{doc}.atom"]
    rank = SEVERITIES.index(change.severity) if change.severity in SEVERITIES else -1
    pages += [f"/feeds/severity/{severity}.atom" for severity in SEVERITIES[: rank + 1]]
    return pages


def object_key(path: str) -> str:
    """Where a static site keeps a path's page: '/' -> 'index.html', '/platforms/x' -> 'platforms/x/index.html'."""
    path = path.lstrip("/")
    if path.endswith(".atom"):
        return path
    return f"{path}/index.html" if path else "index.html"


# ---------------------------------------------------------------------------- the stack


@dataclass
class Stack:
    ministack: MiniStack
    outputs: dict[str, str]
    build_seconds: float
    deploy_seconds: float

    @property
    def bucket(self) -> str:
        return self.outputs["ArchiveBucketName"]


@contextmanager
def stack() -> Iterator[Stack]:
    """A MiniStack of the bench's own with the template deployed; stopped (and its state removed) at the end."""
    state = Path(tempfile.mkdtemp(prefix="bench-site-"))
    ministack = MiniStack(free_port(), state)
    try:
        ministack.start()
        env = ministack.env()
        started = time.perf_counter()
        build_dir = build(env, ROOT / ".aws-sam" / "bench-site" / "build")
        built = time.perf_counter()
        parameters = {"SenderEmail": SENDER, "SchedulesState": "DISABLED", "ArchiveRequiresTls": "false"}
        with contextlib.suppress(StackError):  # as the e2e stack (nothing is rendered here)
            parameters["ChromiumPath"] = chromium_path()
        outputs = deploy(env, STACK, build_dir, parameters)
        deployed = time.perf_counter()
        os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
        from policywatch.storage import clients as aws

        aws.reset()
        yield Stack(ministack, outputs, built - started, deployed - built)
    finally:
        ministack.stop()
        shutil.rmtree(state, ignore_errors=True)


def without_diff_trigger(bucket: str) -> None:
    """Remove the archive's notification: the loader diffs each version itself, in order."""
    from policywatch.storage import clients as aws

    s3 = aws.client("s3")
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    left = s3.get_bucket_notification_configuration(Bucket=bucket)
    if any(left.get(kind) for kind in ("LambdaFunctionConfigurations", "QueueConfigurations", "TopicConfigurations")):
        sys.exit("site: the archive bucket still notifies the diff function")


# ---------------------------------------------------------------------------- paths of each type


@dataclass(frozen=True)
class Kind:
    """A page type and the real paths it is measured on."""

    name: str
    group: str  # page | feed | api
    paths: tuple[str, ...]


def kinds(loaded: Loaded, categories: list[str], rng: random.Random, samples: int) -> list[Kind]:
    """Every page type, feed and API route, each with the paths it can be measured on."""
    platforms = sorted({source.platform for source in loaded.documents})
    documents = [key for key, stamps in loaded.archived.items() if stamps]
    types = sorted({source.document_type for source in loaded.documents})
    versions = [f"{key}/versions/{stamp}" for key, stamps in loaded.archived.items() for stamp in stamps]
    changes = [f"{c.platform}/{c.document}/{c.stamp}" for c in loaded.changes]
    pool = [(key, stamps) for key, stamps in loaded.archived.items() if len(stamps) >= 2]
    compares = []
    for _ in range(samples + WARMUP if pool else 0):
        key, stamps = rng.choice(pool)
        old, new = sorted(rng.sample(stamps, 2))
        compares.append(f"/documents/{key}/compare?{urlencode({'from': old, 'to': new})}")
    filters = (
        [f"/?platform={p}" for p in platforms]
        + [f"/?{urlencode({'document_type': t})}" for t in types]
        + [f"/?category={c}" for c in categories]
        + [f"/?severity={s}" for s in SEVERITIES]
    )
    found = [
        Kind("home", "page", ("/",)),
        Kind("home, one filter", "page", tuple(filters)),
        Kind("platform", "page", tuple(f"/platforms/{p}" for p in platforms)),
        Kind("category timeline", "page", tuple(f"/timeline/{c}" for c in categories)),
        Kind("document", "page", tuple(f"/documents/{key}" for key in documents)),
        Kind("version", "page", tuple(f"/documents/{path}" for path in versions)),
        Kind("compare (random pair)", "page", tuple(compares)),
        Kind("change", "page", tuple(f"/changes/{path}" for path in changes)),
        Kind("provisions index", "page", ("/provisions",)),
        Kind("provision comparison", "page", tuple(f"/provisions/{c}" for c in categories)),
        Kind("feed: all changes", "feed", ("/feeds/changes.atom",)),
        Kind("feed: platform", "feed", tuple(f"/feeds/platforms/{p}.atom" for p in platforms)),
        Kind("feed: document", "feed", tuple(f"/feeds/documents/{key}.atom" for key in documents)),
        Kind("feed: category", "feed", tuple(f"/feeds/provisions/{c}.atom" for c in categories)),
        Kind("feed: min severity", "feed", tuple(f"/feeds/severity/{s}.atom" for s in SEVERITIES)),
        Kind("api: platforms", "api", ("/api/v1/platforms",)),
        Kind("api: document", "api", tuple(f"/api/v1/documents/{key}" for key in documents)),
        Kind("api: versions", "api", tuple(f"/api/v1/documents/{key}/versions" for key in documents)),
        Kind("api: changes", "api", ("/api/v1/changes",)),
        Kind("api: change", "api", tuple(f"/api/v1/changes/{path}" for path in changes)),
        Kind("api: provision", "api", tuple(f"/api/v1/provisions/{c}" for c in categories)),
    ]
    return [kind for kind in found if kind.paths]


# ---------------------------------------------------------------------------- on request, over HTTP


class Client:
    """One keep-alive connection to MiniStack, addressing the distribution (or the function URL)."""

    def __init__(self, port: int, host: str, prefix: str = "") -> None:
        self.port, self.host, self.prefix = port, host, prefix
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, path: str) -> tuple[int, bytes, float]:
        """Status, body and seconds of one GET (reconnecting once if the server closed the connection)."""
        headers = {"Host": self.host, "X-Forwarded-Proto": "https", "User-Agent": "bench.site"}
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.connection.request("GET", self.prefix + path, headers=headers)
                response = self.connection.getresponse()
                body = response.read()
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
                continue
            return response.status, body, time.perf_counter() - started
        raise AssertionError("unreachable")


def client_for(stack: Stack) -> tuple[Client, str]:
    """The CloudFront data plane if it serves the home page, else the function URL (path-based)."""
    port = stack.ministack.port
    distribution = stack.outputs["SiteDomainName"]
    cloudfront = Client(port, distribution)
    status, body, _ = cloudfront.get("/")
    if status == 200:
        return cloudfront, f"CloudFront data plane (Host {distribution})"
    url = stack.outputs["WebOriginUrl"]
    url_id = url.removeprefix("https://").partition(".lambda-url.")[0]
    direct = Client(port, f"127.0.0.1:{port}", f"/_aws/lambda-url/{url_id}")
    return direct, f"function URL, path-based (the data plane answered {status}: {body[:80]!r})"


@dataclass
class Measured:
    kind: Kind
    seconds: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    gzipped: list[int] = field(default_factory=list)
    errors: Counter[int] = field(default_factory=Counter)
    first_error: str = ""  # the first answer that was not a 200: its path and what it said
    reads: dict[str, float] = field(default_factory=dict)  # per request, counted in-process


def measure(client: Client, kind: Kind, paths: list[str]) -> Measured:
    """``WARMUP`` uncounted requests, then one request per path, one at a time."""
    result = Measured(kind)
    for index, path in enumerate(paths):
        status, body, seconds = client.get(path)
        if status != 200:
            result.errors[status] += index >= WARMUP
            result.first_error = result.first_error or f"{status} {path}: {said(body)}"
            continue
        if index >= WARMUP:
            result.seconds.append(seconds)
            result.sizes.append(len(body))
            result.gzipped.append(len(gzip.compress(body, 6)))
    return result


def said(body: bytes) -> str:
    """What an error page or JSON error says, in one short line."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", body.decode(errors="replace"), flags=re.S)
    main = re.search(r"<main\b.*?</main>", text, flags=re.S)
    words = " ".join(re.sub(r"<[^>]+>", " ", main.group(0) if main else text).split())
    return words[:160]


def sample(paths: tuple[str, ...], count: int, rng: random.Random) -> list[str]:
    """``count`` paths drawn at random (each at most once while there are enough)."""
    if len(paths) >= count:
        return rng.sample(list(paths), count)
    return [rng.choice(paths) for _ in range(count)]


def print_measured(results: list[Measured], how: str, load: tuple[float, float]) -> None:
    print(f"\nWarm, on request, through the {how}")
    print(
        "  MiniStack does not cache: every request reaches the function (a CloudFront miss). "
        f"Load average {load[0]:.1f} before, {load[1]:.1f} after."
    )
    print(
        f"{'type':<24} {'paths':>6} {'n':>4} {'p50 ms':>7} {'p95 ms':>7} {'target':>9}  "
        f"{'bytes':>9} {'gzip':>7} {'items':>6} {'reqs':>4} {'S3':>3}  errors"
    )
    for r in results:
        target = TARGET_MS[r.kind.group]
        if r.seconds:
            p50, p95 = 1000 * statistics.median(r.seconds), 1000 * percentile(r.seconds, 0.95)
            verdict = "ok" if p95 < target else "OVER"
            size, packed = int(statistics.median(r.sizes)), int(statistics.median(r.gzipped))
            figures = f"{p50:>7.0f} {p95:>7.0f} {f'<{target:.0f}':>4} {verdict:<4} {size:>9,} {packed:>7,}"
        else:
            figures = f"{'-':>7} {'-':>7} {f'<{target:.0f}':>4} {'-':<4} {'-':>9} {'-':>7}"
        reads = r.reads
        counted = f"{reads.get('items', 0):>6.0f} {reads.get('requests', 0):>4.1f} {reads.get('s3', 0):>3.1f}"
        errors = ", ".join(f"{n}x{status}" for status, n in sorted(r.errors.items()) if n) or "-"
        print(f"{r.kind.name:<24} {len(r.kind.paths):>6,} {len(r.seconds):>4} {figures} {counted}  {errors}")
    for r in results:
        if r.first_error:
            print(f"  {r.kind.name}: {r.first_error}")
    print(
        "  paths: distinct real paths of the type; bytes: median body as served (gzip: the same compressed here); "
        "items, reqs, S3: read-model items, DynamoDB requests and archive GETs per request (in-process, same code)"
    )


def count_reads(render: Callable[[str], PageResponse], reads: Reads, paths: list[str]) -> dict[str, float]:
    """The mean reads one request for each of ``paths`` makes (rendered in-process)."""
    counted = []
    for path in paths:
        reads.start()
        render(path)
        counted.append(reads.counts())
    return {name: statistics.mean(c[name] for c in counted) for name in ("items", "requests", "s3")}


# ---------------------------------------------------------------------------- in-process: the same code


class Reads:
    """DynamoDB items and requests, and archive GETs, made in this process since ``start`` (botocore's
    after-call events; a page's parallel reads in its own threads included). One count at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] | None = None

    def install(self) -> None:
        from policywatch.storage import clients as aws

        events = aws.client("dynamodb").meta.events
        for operation in ("Query", "GetItem", "Scan", "BatchGetItem"):
            events.register(f"after-call.dynamodb.{operation}", self._dynamodb)
        aws.client("s3").meta.events.register("after-call.s3.GetObject", self._s3)

    def start(self) -> None:
        with self._lock:
            self._counts = Counter()

    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(self._counts or {})

    def _dynamodb(self, parsed: dict[str, Any], **_: Any) -> None:
        items = parsed.get("Items")
        if items is None:
            items = [parsed["Item"]] if parsed.get("Item") else []
        with self._lock:
            if self._counts is not None:
                self._counts["requests"] += 1
                self._counts["items"] += len(items)

    def _s3(self, **_: Any) -> None:
        with self._lock:
            if self._counts is not None:
                self._counts["s3"] += 1


def local_site(outputs: dict[str, str]) -> Site:
    """A ``Site`` on the deployed stores that keeps the catalog and health once read (a warm function's)."""
    from policywatch.storage.archive import Archive
    from policywatch.storage.documents import DocumentStates
    from policywatch.storage.site import SiteIndex
    from policywatch.web.site import Site

    return Site(
        SiteIndex(outputs["SiteTableName"]),
        Archive(outputs["ArchiveBucketName"]),
        DocumentStates(outputs["DocumentsTableName"]),
        clock=lambda: 0.0,
    )


def renderer(site: Site, base_url: str) -> Callable[[str], PageResponse]:
    """The web handler's routers, in its order, in-process: path -> the answer it serves."""
    from policywatch.core import clock
    from policywatch.web import api, feeds, views
    from policywatch.web.pages import not_found
    from policywatch.web.request import Request

    def render(path: str) -> PageResponse:
        bare, _, query = path.partition("?")
        arguments = dict(parse_qsl(query))
        request = Request("GET", bare, arguments, base_url, clock.now())
        for route in (api.route, feeds.route, views.route):
            page = route(site, request)
            if page is not None:
                return page
        return not_found("page")

    return render


# ---------------------------------------------------------------------------- growth with versions


def growth(
    client: Client,
    loaded: Loaded,
    render: Callable[[str], PageResponse],
    reads: Reads,
    requests: int,
    rng: random.Random,
) -> None:
    print("\nGrowth with a document's archived versions (warm, on request; reads per request counted in-process)")
    print(
        f"{'versions':>8} {'docs':>5} {'mean':>5} | {'document page p50/p95 ms':>24} {'bytes':>9} {'items':>6} "
        f"{'reqs':>4} {'S3':>3} | {'api versions p50/p95 ms':>23} {'bytes':>6} {'items':>6} {'reqs':>4}"
    )
    groups: dict[str, list[str]] = {}
    for key, stamps in loaded.archived.items():
        if stamps:
            groups.setdefault(bucket_of(len(stamps)), []).append(key)
    for low, _ in GROWTH_BUCKETS:
        name = bucket_of(low)
        keys = groups.get(name, [])
        if not keys:
            print(f"{name:>8} {0:>5}   (no document)")
            continue
        mean = statistics.mean(len(loaded.archived[key]) for key in keys)
        row = f"{name:>8} {len(keys):>5} {mean:>5.0f}"
        for prefix, suffix, group in (("/documents/", "", "page"), ("/api/v1/documents/", "/versions", "api")):
            paths = [f"{prefix}{key}{suffix}" for key in sample(tuple(keys), requests + WARMUP, rng)]
            result = measure(client, Kind(name, group, tuple(paths)), paths)
            # What a request reads depends on the document, not on the run: up to 10 documents of the group.
            counted = count_reads(render, reads, [f"{prefix}{key}{suffix}" for key in keys[:10]])
            if result.seconds:
                p95 = 1000 * percentile(result.seconds, 0.95)
                mark = "" if p95 < TARGET_MS[group] else " OVER"
                timing = f"{1000 * statistics.median(result.seconds):.0f} / {p95:.0f}{mark}"
            else:
                timing = f"errors {dict(result.errors)}"
            size = int(statistics.median(result.sizes)) if result.sizes else 0
            if suffix:
                row += f" | {timing:>23} {size:>6,} {counted['items']:>6.0f} {counted['requests']:>4.1f}"
            else:
                row += (
                    f" | {timing:>24} {size:>9,} {counted['items']:>6.0f} {counted['requests']:>4.1f} "
                    f"{counted['s3']:>3.1f}"
                )
        print(row)


# ---------------------------------------------------------------------------- the static alternative


def all_pages(loaded: Loaded, categories: list[str]) -> dict[str, list[str]]:
    """Every page and feed a static site holds, by type (the API and compare pairs aside)."""
    platforms = sorted({source.platform for source in loaded.documents})
    documents = [key for key, stamps in loaded.archived.items() if stamps]
    return {
        "home and provisions index": ["/", "/provisions"],
        "platforms": [f"/platforms/{p}" for p in platforms],
        "category timelines": [f"/timeline/{c}" for c in categories],
        "provision comparisons": [f"/provisions/{c}" for c in categories],
        "documents": [f"/documents/{key}" for key in documents],
        "versions": [f"/documents/{key}/versions/{s}" for key, stamps in loaded.archived.items() for s in stamps],
        "changes": [f"/changes/{c.platform}/{c.document}/{c.stamp}" for c in loaded.changes],
        "feeds": ["/feeds/changes.atom"]
        + [f"/feeds/severity/{s}.atom" for s in SEVERITIES]
        + [f"/feeds/platforms/{p}.atom" for p in platforms]
        + [f"/feeds/documents/{key}.atom" for key in documents]
        + [f"/feeds/provisions/{c}.atom" for c in categories],
    }


def publish(render: Callable[[str], PageResponse], path: str) -> tuple[int, int]:
    """Render ``path`` and PUT it where a static site serves it; (status, bytes)."""
    from policywatch.storage import clients as aws

    page = render(path)
    body = page.body.encode()
    if page.status == 200:
        aws.client("s3").put_object(
            Bucket=STATIC_BUCKET, Key=object_key(path), Body=body, ContentType=page.content_type
        )
    return page.status, len(body)


def publish_part(paths: list[str], outputs: dict[str, str], threads: int) -> tuple[list[tuple[int, int]], float]:
    """Publish ``paths`` from this process, ``threads`` at a time; what each answered and this process's CPU seconds."""
    from policywatch.storage import clients as aws

    aws.reset()  # clients are not shared across a fork
    cpu = time.process_time()
    render = renderer(local_site(outputs), f"https://{outputs['SiteDomainName']}")
    with ThreadPoolExecutor(max_workers=threads) as pool:
        done = list(pool.map(lambda path: publish(render, path), paths))
    return done, time.process_time() - cpu


def static_site(
    outputs: dict[str, str],
    loaded: Loaded,
    render: Callable[[str], PageResponse],
    categories: list[str],
    parallel: tuple[int, int],
    sample_size: int,
    rng: random.Random,
    compare_seconds: float | None,
) -> None:
    from policywatch.storage import clients as aws

    aws.client("s3").create_bucket(Bucket=STATIC_BUCKET)
    pages = all_pages(loaded, categories)
    paths = [path for group in pages.values() for path in group]
    processes, threads = parallel
    parts = [paths[n::processes] for n in range(processes)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("fork")) as pool:
        results = list(pool.map(publish_part, parts, [outputs] * processes, [threads] * processes))
    seconds = time.perf_counter() - started
    done = [answer for answers, _ in results for answer in answers]
    cpu = sum(cpu for _, cpu in results)
    failed = Counter(status for status, _ in done if status != 200)
    print("\nThe alternative: static pages rendered to S3 on each change (same code, in-process)")
    counts = ", ".join(f"{name} {len(group):,}" for name, group in pages.items())
    print(
        f"  (a) whole site: {len(paths):,} objects ({counts}), {sum(size for _, size in done) / 1e6:,.1f} MB, "
        f"{seconds:,.0f} s with {processes} processes of {threads} threads "
        f"({1000 * seconds / max(len(paths), 1):.0f} ms an object; renderers' CPU {cpu:,.0f} s, "
        f"{1000 * cpu / max(len(paths), 1):.0f} ms an object)" + (f"; not 200: {dict(failed)}" if failed else "")
    )
    previous: dict[tuple[str, str, str], str] = {}
    by_document: dict[tuple[str, str], list[Change]] = {}
    for change in sorted(loaded.changes, key=lambda c: c.stamp):
        by_document.setdefault((change.platform, change.document), []).append(change)
    for changes in by_document.values():
        for before, after in zip(changes, changes[1:], strict=False):
            previous[(after.platform, after.document, after.stamp)] = before.stamp
    chosen = rng.sample(loaded.alerts, min(sample_size, len(loaded.alerts)))
    counts_per_change, seconds_per_change = [], []
    for change in chosen:
        stale = stale_pages(change, previous.get((change.platform, change.document, change.stamp)))
        started = time.perf_counter()
        for path in stale:
            publish(render, path)
        seconds_per_change.append(time.perf_counter() - started)
        counts_per_change.append(len(stale))
    if chosen:
        print(
            f"  (b) one new alerting change: median {statistics.median(counts_per_change):.0f} objects "
            f"({min(counts_per_change)}..{max(counts_per_change)}), median {statistics.median(seconds_per_change):.2f} s "
            f"(max {max(seconds_per_change):.2f} s) rendered and PUT one after another, over {len(chosen)} changes"
        )
    pairs = compare_pairs([len(stamps) for stamps in loaded.archived.values()])
    largest = max(loaded.archived.items(), key=lambda item: len(item[1]))
    print(
        f"  (c) compare pairs to pre-render: {pairs:,} (sum over documents of n(n-1)/2; "
        f"{largest[0]} alone, n = {len(largest[1])}: {compare_pairs([len(largest[1])]):,}); "
        f"a new version of a document with n versions adds n more"
        + (
            f"; at the compare page's measured p50 ({1000 * compare_seconds:.0f} ms) "
            f"{pairs * compare_seconds / 3600:,.1f} hours to render them all"
            if compare_seconds
            else ""
        )
    )


# ---------------------------------------------------------------------------- the run


def table_items(table: str) -> int:
    """How many items ``table`` holds (a counting Scan)."""
    from policywatch.storage import clients as aws

    request: dict[str, Any] = {"TableName": table, "Select": "COUNT"}
    total = 0
    while True:
        page = aws.client("dynamodb").scan(**request)
        total += page["Count"]
        if "LastEvaluatedKey" not in page:
            return total
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def print_load(loaded: Loaded, read_model: int) -> None:
    severities = Counter(change.severity for change in loaded.alerts)
    kinds_ = Counter(change.kind for change in loaded.changes)
    services = len({source.service for source in loaded.documents})
    archived = sum(len(stamps) for stamps in loaded.archived.values())
    print(
        f"\nLoaded: {len(loaded.documents)} documents of {services} services, {loaded.recorded:,} recorded versions: "
        f"{archived:,} archived ({loaded.skipped['refused']} refused by the extraction checks, "
        f"{loaded.skipped['unchanged']} with the last archived fingerprint)"
    )
    print(
        f"  {len(loaded.changes):,} change records ({', '.join(f'{k} {n}' for k, n in kinds_.most_common())}); "
        f"{len(loaded.alerts)} alerting (high {severities['high']}, medium {severities['medium']}, "
        f"low {severities['low']}); {read_model:,} read-model items"
    )
    print(
        f"  in {loaded.seconds:,.0f} s with {loaded.processes} processes of {loaded.threads} threads "
        f"({archived / max(loaded.seconds, 1e-9):.1f} archived versions a second; the loader's CPU "
        f"{loaded.cpu_seconds:,.0f} s, MiniStack's not counted; load average {os.getloadavg()[0]:.1f})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=40, help="measured requests per page type (after 3 warm-up)")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="loading and static rendering")
    parser.add_argument("--threads", type=int, default=3, help="threads of each loader process")
    parser.add_argument("--render-threads", type=int, default=3, help="threads of each static-rendering process")
    parser.add_argument("--changes", type=int, default=20, help="alerting changes sampled for the static invalidation")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args(argv)
    run_started = time.perf_counter()
    rng = random.Random(args.seed)
    os.environ.update(ENVIRONMENT)

    from bench.site_load import load, sources

    documents = sources()
    print(
        f"bench.site: MiniStack {importlib.metadata.version('ministack')}, {os.cpu_count()} cores; "
        f"{len(documents)} documents, {sum(len(d.history) for d in documents):,} recorded versions "
        f"(../shared/corpus/genai-contrib.bundle)"
    )
    with stack() as deployed:
        print(
            f"Stack: sam build {deployed.build_seconds:.0f} s, sam deploy {deployed.deploy_seconds:.0f} s "
            f"(MiniStack on 127.0.0.1:{deployed.ministack.port}); the archive's notification removed"
        )
        without_diff_trigger(deployed.bucket)
        loaded = load(
            documents,
            bucket=deployed.bucket,
            site_table=deployed.outputs["SiteTableName"],
            documents_table=deployed.outputs["DocumentsTableName"],
            processes=args.processes,
            threads=args.threads,
        )
        print_load(loaded, table_items(deployed.outputs["SiteTableName"]))

        from policywatch.web.site import Site

        categories = [category["id"] for category in Site.categories()]
        site = local_site(deployed.outputs)
        render = renderer(site, f"https://{deployed.outputs['SiteDomainName']}")
        reads = Reads()
        reads.install()
        render("/")  # the catalog and health, read once as a warm function keeps them
        client, how = client_for(deployed)
        results = []
        before = os.getloadavg()[0]
        for kind in kinds(loaded, categories, rng, args.requests):
            paths = (
                list(kind.paths) if kind.name.startswith("compare") else sample(kind.paths, args.requests + WARMUP, rng)
            )
            result = measure(client, kind, paths)
            result.reads = count_reads(render, reads, paths[WARMUP : WARMUP + READ_SAMPLES])
            results.append(result)
        print_measured(results, how, (before, os.getloadavg()[0]))
        growth(client, loaded, render, reads, args.requests, rng)
        compare = next((r for r in results if r.kind.name.startswith("compare") and r.seconds), None)
        median_compare = statistics.median(compare.seconds) if compare else None
        static_site(
            deployed.outputs,
            loaded,
            render,
            categories,
            (args.processes, args.render_threads),
            args.changes,
            rng,
            median_compare,
        )
    print(f"\nWhole run: {time.perf_counter() - run_started:,.0f} s (MiniStack stopped, its state removed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
