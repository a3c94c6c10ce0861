"""Benchmark: the browser renderer (headless Chromium through Playwright) on the demo site's script-built pages.

Measured in one run, on the real code path (``policywatch.fetch.render.Renderer`` driving Debian's
Chromium, ``devstack.ministack.chromium_path()``) against the demo site's pages
(``devstack.demo_site.publish(0, ...)``: Claude's privacy policy as a script-built "app",
Perplexity's behind a JavaScript "challenge" that sets a cookie and reloads, xAI's terms that
"never settle") served from a temporary directory by ``http.server`` on loopback. The renderer's
resolver knows loopback only: the third-party hosts the corpus pages name (scripts, styles,
analytics) are refused by its request guard, whether or not the machine has a network, and
listed, since a real page would load those that are not trackers.

- cold launch: three fresh ``Renderer``s, each timed in ``Renderer._launch`` itself (Playwright's
  driver started, then Chromium launched) and on its first page against a warm render of the
  same page right after; medians. "Cold" is a fresh renderer in a warm machine (files in the
  page cache), not a Lambda cold start (which adds reading the layers from disk).
- one instance: one ``Renderer`` with the product's settings (RenderSettings defaults, its
  page_seconds from ``--page-seconds``) renders ``--pages`` pages one after another, "app" and
  "challenge" alternately, after one uncounted page of each kind (the launch): pages per minute,
  p50 / p95 seconds per kind; then the never-settling page, whose time to fail must be within
  page_seconds; then one more page (the renderer still works after the failure).
- peak memory: VmRSS of this Python process and of every process under it (Playwright's Node
  driver, Chromium's browser, zygotes, renderer, utility processes), sampled every
  ``--sample-seconds`` from /proc; the sum of VmRSS counts a page the processes share in each of
  them (an upper bound), the sum of Pss (smaps_rollup) shares it out (nearer to what a Lambda's
  memory limit counts). Compared with the RenderFunction's MemorySize. Processes left by
  renderers closed earlier in the run are left out of the later phases and counted at the end.
- restart cost: a ``Renderer`` with ``--max-pages`` (restarted after that many pages) renders
  ``--restart-pages`` pages; the extra time of a page that restarted the browser over the median of
  the same kind's pages that did not, and ``_stop`` + ``_launch`` timed directly.
- projections from the measured per-page time: the packaged catalog's browser documents and
  1,000 of them, with RenderConcurrency's default containers and with 10, one page at a time
  each, against the SweepSchedule period (template.yaml's defaults). Loopback pages are faster
  than real ones; a clearly labelled line adds an assumed ``--network-seconds`` per page to the
  measured p95 (an assumption, not a measurement).
- the text extracted (``document_text``) from the rendered "app" page against the same corpus
  page served as static HTML and fetched plainly: they must be the same.

Nothing is asserted on time; the figures are printed. This machine's cores are not a Lambda's
(2,048 MB gives about 1.2 vCPU).

    .venv/bin/python -m bench.render [--pages 40] [--page-seconds 30] [--max-pages 10] [--restart-pages 30]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import importlib.metadata
import json
import math
import os
import re
import socket
import statistics
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devstack import demo_site
from devstack import template as cfn
from devstack.ministack import chromium_path
from policywatch.catalog import Document, load_packaged, parse_catalog_json
from policywatch.fetch.extraction.pages import document_text
from policywatch.fetch.render import TRACKERS, Renderer, RenderSettings
from policywatch.fetch.result import FetchError, FetchResult

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parent.parent
os.environ.update({"POWERTOOLS_SERVICE_NAME": "policywatch", "POWERTOOLS_LOG_LEVEL": "ERROR"})

THROUGHPUT_KINDS = ("app", "challenge")  # never-settles is timed on its own
COLD_LAUNCHES = 3


# ---------------------------------------------------------------- the site


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextmanager
def demo_server() -> Iterator[str]:
    """The demo site's edition 0 (and its corpus pages as static HTML under /static/) on loopback."""
    with tempfile.TemporaryDirectory(prefix="bench-render-") as folder:
        root = Path(folder)
        demo_site.publish(0, root)
        for path, editions in demo_site.PAGES.items():  # the same page as the corpus has it
            entry = editions[0]
            name = entry[0] if isinstance(entry, tuple) else entry
            target = root / "static" / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes((demo_site.CORPUS / name).read_bytes())
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=folder))
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


def demo_documents(base_url: str) -> dict[str, Document]:
    """The demo catalog's browser documents, by how the site serves them ("app", "challenge", ...)."""
    catalog = parse_catalog_json(json.dumps(demo_site.catalog(base_url)), "demo")
    found = {}
    for document in catalog.documents():
        path = document.pages[0].url.removeprefix(base_url + "/")
        if path in demo_site.SCRIPTED:
            found[demo_site.SCRIPTED[path]] = document
    return found


class LoopbackOnly:
    """The renderer's resolver: loopback resolves, any other host name does not (the guard refuses it).

    The corpus pages name third-party hosts (scripts, styles, analytics); refusing them keeps the run
    the same with or without a network, and says what a real page would load besides."""

    def __init__(self) -> None:
        self.refused: set[str] = set()

    def __call__(self, host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        if host == "127.0.0.1":
            return socket.getaddrinfo(host, port, *args, **kwargs)
        self.refused.add(host)
        raise socket.gaierror(socket.EAI_NONAME, "the bench resolves loopback only")


def _tracker(host: str) -> bool:
    parts = host.split(".")
    return any(".".join(parts[i:]) in TRACKERS for i in range(len(parts) - 1))


# ---------------------------------------------------------------- the renderer, timed


class TimedRenderer(Renderer):
    """The product's renderer, with its launches and stops timed (on the renderer's own thread)."""

    def __init__(self, settings: RenderSettings, *, allowlist: frozenset[str], resolver: LoopbackOnly) -> None:
        super().__init__(settings, allowlist=allowlist, getaddrinfo=resolver)
        self.launch_seconds: list[float] = []
        self.stop_seconds: list[float] = []

    def _launch(self, url: str = "about:blank") -> Browser:
        started = time.perf_counter()
        try:
            return super()._launch(url)
        finally:
            self.launch_seconds.append(time.perf_counter() - started)

    def _stop(self) -> None:
        if self._browser is None:
            super()._stop()
            return
        started = time.perf_counter()
        try:
            super()._stop()
        finally:
            self.stop_seconds.append(time.perf_counter() - started)


@dataclass
class Render:
    kind: str
    seconds: float
    launched: int  # browsers launched during the render (a restart: 1)
    error: str = ""
    result: FetchResult | None = None


def render(renderer: Renderer, document: Document, kind: str) -> Render:
    page = document.pages[0]
    launches = renderer.launches
    started = time.perf_counter()
    try:
        result = renderer.render(page.url, select=page.select)
    except FetchError as error:
        return Render(kind, time.perf_counter() - started, renderer.launches - launches, str(error))
    return Render(kind, time.perf_counter() - started, renderer.launches - launches, result=result)


# ---------------------------------------------------------------- memory


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = Path(f"/proc/{name}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(name))
    return children


def descendants(pid: int) -> list[int]:
    children, found, todo = _children(), [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kind(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    if pid == os.getpid():
        return "python"
    if "chrom" in command:
        return "chromium"
    if "playwright" in command and "node" in command:
        return "driver"
    return "other"


def _status_kb(pid: int, field_name: str, path: str = "status") -> int:
    try:
        for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


@dataclass
class Peak:
    rss: float = 0.0  # MB, VmRSS summed
    pss: float = 0.0  # MB, Pss summed
    processes: int = 0
    by_kind: dict[str, float] = field(default_factory=dict)  # VmRSS MB at the RSS peak


class MemorySampler:
    """Samples this process and everything under it (less ``excluded``) until stopped; peaks per phase."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.phase = "start"
        self.excluded: set[int] = set()
        self.peaks: dict[str, Peak] = {}
        self.samples = 0
        self.busy = 0.0  # CPU seconds the sampling took (its thread's)
        self.elapsed = 0.0  # wall seconds it ran
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="memory")
        self._kinds: dict[int, str] = {}

    def __enter__(self) -> MemorySampler:
        self._started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.elapsed = time.perf_counter() - self._started

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.thread_time()
            self.sample()
            self.busy += time.thread_time() - started
            self._stop.wait(self.interval)

    def sample(self) -> None:
        pids = [os.getpid()] + [p for p in descendants(os.getpid()) if p not in self.excluded]
        rss = pss = 0.0
        by_kind: dict[str, float] = {}
        for pid in pids:
            kind = self._kinds.get(pid) or _kind(pid)
            if kind not in ("other", "gone"):  # "other": maybe forked and not yet exec'd
                self._kinds[pid] = kind
            mb = _status_kb(pid, "VmRSS") / 1024
            rss += mb
            pss += _status_kb(pid, "Pss", "smaps_rollup") / 1024
            by_kind[kind] = by_kind.get(kind, 0.0) + mb
        peak = self.peaks.setdefault(self.phase, Peak())
        if rss > peak.rss:
            peak.rss, peak.processes, peak.by_kind = rss, len(pids), by_kind
        peak.pss = max(peak.pss, pss)
        self.samples += 1

    def leave_out_what_is_left(self) -> None:
        """Processes still under this one now (a closed renderer's) are not the next phase's."""
        self.excluded.update(descendants(os.getpid()))


# ---------------------------------------------------------------- figures


def percentile(values: list[float], share: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def schedule_seconds(expression: str) -> float | None:
    match = re.fullmatch(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)", expression.strip())
    if not match:
        return None
    unit = {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
    return int(match.group(1)) * unit


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


@dataclass(frozen=True)
class Template:
    sweep: str
    concurrency: int
    page_seconds: float
    memory_mb: int
    timeout: int
    batch: int

    @classmethod
    def read(cls) -> Template:
        template = cfn.load(ROOT / "template.yaml")
        parameters = template["Parameters"]
        function = template["Resources"]["RenderFunction"]["Properties"]
        return cls(
            sweep=str(parameters["SweepSchedule"]["Default"]),
            concurrency=int(parameters["RenderConcurrency"]["Default"]),
            page_seconds=float(parameters["RenderPageSeconds"]["Default"]),
            memory_mb=int(function["MemorySize"]),
            timeout=int(function["Timeout"]),
            batch=int(function["Events"]["Jobs"]["Properties"]["BatchSize"]),
        )


def sweep_seconds(pages: int, containers: int, per_page: float, launch: float, restart: float, max_pages: int) -> float:
    """Pages spread evenly over ``containers``, one at a time each: a cold launch per container,
    a restart every ``max_pages`` pages."""
    each = math.ceil(pages / containers)
    return launch + each * per_page + max(each - 1, 0) // max_pages * restart


def text_of(document: Document, body: bytes, url: str) -> str:
    return document_text(document, [(body, "text/html", url)])


# ---------------------------------------------------------------- the run


@dataclass
class Site:
    base_url: str
    documents: dict[str, Document]  # by how the site serves them
    executable: str
    page_seconds: float
    sampler: MemorySampler
    resolver: LoopbackOnly = field(default_factory=LoopbackOnly)

    def renderer(self, **changes: Any) -> TimedRenderer:
        """A fresh renderer with the product's settings (but page_seconds and ``changes``)."""
        values = {"executable": self.executable, "page_seconds": self.page_seconds, **changes}
        port = self.base_url.rsplit(":", 1)[1]
        return TimedRenderer(
            RenderSettings(**values), allowlist=frozenset({f"127.0.0.1:{port}"}), resolver=self.resolver
        )

    def close(self, renderer: Renderer) -> None:
        renderer.close()
        self.sampler.leave_out_what_is_left()

    def render(self, renderer: Renderer, kind: str) -> Render:
        return render(renderer, self.documents[kind], kind)


@dataclass
class Throughput:
    renders: list[Render]
    wall: float
    restarts: int
    never: Render
    after: Render
    extraction: dict[str, tuple[float, str]]  # kind -> (seconds, text) of one rendered page
    third_party: dict[str, list[str]]  # kind -> the host names its page asked for, refused

    @property
    def per_page(self) -> float:
        return self.wall / len(self.renders)

    def seconds(self) -> dict[str, list[float]]:
        per_kind: dict[str, list[float]] = {}
        for r in self.renders:
            if not r.error:
                per_kind.setdefault(r.kind, []).append(r.seconds)
        return per_kind


def cold_launches(site: Site) -> float:
    """Fresh renderers: their launch, first page and a warm page; prints them, returns the median launch."""
    site.sampler.phase = "cold launches"
    launches, firsts, warms = [], [], []
    for _ in range(COLD_LAUNCHES):
        renderer = site.renderer()
        try:
            first, warm = site.render(renderer, "app"), site.render(renderer, "app")
        finally:
            site.close(renderer)
        if first.error or warm.error:
            raise SystemExit(f"the app page failed: {first.error or warm.error}")
        launches.append(renderer.launch_seconds[0])
        firsts.append(first.seconds)
        warms.append(warm.seconds)
    cold = statistics.median(launches)
    each = ", ".join(f"{s:.2f}" for s in launches)
    print(f"cold launch ({COLD_LAUNCHES} fresh Renderers, medians)")
    print(f"  Renderer._launch (driver + Chromium) : {cold:.2f} s   (each: {each})")
    print(f"  first page (launch included)         : {statistics.median(firsts):.2f} s")
    print(f"  the same page, warm                  : {statistics.median(warms):.2f} s")
    print(
        f"  first minus warm                     : {statistics.median(f - w for f, w in zip(firsts, warms, strict=True)):.2f} s\n"
    )
    return cold


def one_instance(site: Site, pages: int) -> Throughput:
    """One renderer, pages one after another, then the never-settling page and one more page."""
    site.sampler.phase = "one instance"
    renderer = site.renderer()
    renders: list[Render] = []
    try:
        third_party = {}
        for kind in THROUGHPUT_KINDS:  # the launch, and each kind's first page: not counted
            site.resolver.refused.clear()
            site.render(renderer, kind)
            third_party[kind] = sorted(site.resolver.refused)
        launched = renderer.launches
        started = time.perf_counter()
        for n in range(pages):
            renders.append(site.render(renderer, THROUGHPUT_KINDS[n % len(THROUGHPUT_KINDS)]))
        wall = time.perf_counter() - started
        restarts = renderer.launches - launched
        never, after = site.render(renderer, "never-settles"), site.render(renderer, "app")
    finally:
        site.close(renderer)
    extraction = {}
    for kind in THROUGHPUT_KINDS:
        result = next((r.result for r in renders if r.kind == kind and r.result is not None), None)
        if result is None:
            raise SystemExit(f"no {kind} page rendered")
        started = time.perf_counter()
        text = text_of(site.documents[kind], result.body, result.final_url)
        extraction[kind] = (time.perf_counter() - started, text)
    return Throughput(renders, wall, restarts, never, after, extraction, third_party)


def print_throughput(run: Throughput, page_seconds: float) -> None:
    failed = [r for r in run.renders if r.error]
    print(f"one instance, {len(run.renders)} pages one after another ({', '.join(THROUGHPUT_KINDS)} alternately)")
    print(
        f"  {len(run.renders) - len(failed)} rendered, {len(failed)} failed, {run.restarts} restarts, in {run.wall:.1f} s"
        f" = {60 / run.per_page:.1f} pages/min ({run.per_page:.2f} s/page)"
    )
    for error in sorted({r.error for r in failed}):
        print(f"  failure: {error}")
    for kind, seconds in run.seconds().items():
        print(
            f"  {kind:<10} n={len(seconds):>3}  p50 {percentile(seconds, 0.5):.2f} s  "
            f"p95 {percentile(seconds, 0.95):.2f} s  max {max(seconds):.2f} s"
        )
    never = run.never
    over = never.seconds - page_seconds
    print(
        f"  never-settles: failed after {never.seconds:.2f} s, limit {page_seconds:g} s: within the limit "
        + ("yes" if over <= 0 else f"no (over by {over:.2f} s)")
    )
    print(f"    {never.error or 'NOT A FAILURE: it rendered'}")
    after = f"rendered in {run.after.seconds:.2f} s" if not run.after.error else f"FAILED: {run.after.error}"
    print(f"  the next page after it: {after}")
    print("  third-party hosts a page asked for, refused here (a real page loads those that are no tracker):")
    for kind, hosts in run.third_party.items():
        others = [h for h in hosts if not _tracker(h)]
        trackers = len(hosts) - len(others)
        print(f"    {kind:<10} {len(others)} ({', '.join(others) or '-'}) and {trackers} trackers")
    print()


def restarts(site: Site, pages: int, max_pages: int, cold: float, per_page: float) -> float:
    """A renderer restarted every ``max_pages``; prints the cost, returns the extra seconds of a restart."""
    site.sampler.phase = "restarts"
    renderer = site.renderer(max_pages=max_pages)
    renders: list[Render] = []
    try:
        site.render(renderer, "app")  # the cold launch: not counted
        for n in range(pages):
            renders.append(site.render(renderer, THROUGHPUT_KINDS[n % len(THROUGHPUT_KINDS)]))
        stops, relaunches = list(renderer.stop_seconds), renderer.launch_seconds[1:]
    finally:
        site.close(renderer)
    extras = []
    plain = [o for o in renders if not o.launched and not o.error]
    for r in renders:
        usual = [o.seconds for o in plain if o.kind == r.kind] or [o.seconds for o in plain]
        if r.launched and not r.error and usual:
            extras.append(r.seconds - statistics.median(usual))
    print(f"restarts: {pages} pages with max_pages {max_pages}: {len(relaunches)} restarts")
    if not extras:
        why = "no page without a restart to compare with" if relaunches else "raise --restart-pages above --max-pages"
        print(f"  no restart cost measured ({why})\n")
        return 0.0
    cost = statistics.mean(extras)
    print(
        f"  extra time of a page that restarted the browser : {cost:.2f} s "
        f"(each: {', '.join(f'{e:.2f}' for e in extras)}; over the median page without a restart, of its kind when there is one)"
    )
    stop, launch = statistics.mean(stops), statistics.mean(relaunches)
    print(
        f"  _stop + _launch, timed directly                 : {stop + launch:.2f} s "
        f"(stop {stop:.2f} s, launch {launch:.2f} s: no driver start, against {cold:.2f} s cold)"
    )
    product = RenderSettings().max_pages
    print(
        f"  at the product's max_pages {product}: {cost / product:.3f} s a page, "
        f"{cost / product / per_page:.1%} of a loopback page\n"
    )
    return cost


def print_memory(sampler: MemorySampler, interval: float, memory_mb: int, left: list[tuple[int, str]]) -> None:
    busy = sampler.busy / max(sampler.elapsed, 1e-9)
    print(f"peak memory ({sampler.samples} samples, every {interval:g} s; sampling kept {busy:.0%} of a core busy)")
    for phase in ("cold launches", "one instance", "restarts"):
        peak = sampler.peaks.get(phase)
        if peak is None:
            continue
        kinds = ", ".join(f"{k} {v:.0f}" for k, v in sorted(peak.by_kind.items()))
        print(
            f"  {phase:<14} RSS sum {peak.rss:6.0f} MB  Pss sum {peak.pss:6.0f} MB  "
            f"({peak.processes} processes; RSS MB: {kinds})"
        )
    top = max(sampler.peaks.values(), key=lambda p: p.rss)
    top_pss = max(p.pss for p in sampler.peaks.values())
    print(
        f"  peak of the run against the RenderFunction's MemorySize {memory_mb} MB: RSS {top.rss:.0f} MB = "
        f"{top.rss / memory_mb:.2f}, Pss {top_pss:.0f} MB = {top_pss / memory_mb:.2f}"
    )
    drivers = sum(1 for _, kind in left if kind == "driver")
    chromium = sum(1 for _, kind in left if kind == "chromium")
    print(
        f"  processes left under this one after every Renderer was closed: {len(left)} "
        f"({drivers} Playwright drivers, {chromium} Chromium, {len(left) - drivers - chromium} other)\n"
    )


def print_projections(template: Template, run: Throughput, cold: float, restart: float, network: float) -> None:
    catalog = load_packaged()
    documents = [d for d in catalog.documents() if d.render == "browser"]
    pages = sum(len(d.pages) for d in documents)
    period = schedule_seconds(template.sweep)
    max_pages = RenderSettings().max_pages
    p95 = max(percentile(seconds, 0.95) for seconds in run.seconds().values())
    extraction = statistics.mean(seconds for seconds, _ in run.extraction.values())
    rows = [
        (f"loopback, render only ({run.per_page:.2f} s/page, measured mean)", run.per_page),
        (
            f"loopback, render + extraction ({run.per_page + extraction:.2f} s/page, measured)",
            run.per_page + extraction,
        ),
        (
            f"ASSUMED real: p95 {p95:.2f} s + {network:g} s of network (assumed) + extraction "
            f"({p95 + network + extraction:.2f} s/page)",
            p95 + network + extraction,
        ),
    ]
    thousand = round(1000 * pages / len(documents))
    sizes = [(f"{len(documents)} catalog docs ({pages} pages)", pages), (f"1,000 docs ({thousand:,} pages)", thousand)]
    print(
        f"projected sweep of the browser documents (SweepSchedule {template.sweep}"
        + (f" = {duration(period)}" if period else ": not a rate, no ratio")
        + f"; {len(documents)} of the catalog's {len(catalog.documents())} documents render in a browser)"
    )
    print(
        "  containers render one page at a time each, pages spread evenly; a cold launch per container and a restart\n"
        f"  every {max_pages} pages added; SQS, Lambda start, S3 and DynamoDB time not included; 1,000 docs have the\n"
        "  catalog's pages per document. Loopback pages are faster than real ones: the ASSUMED line adds a\n"
        "  network time that was not measured."
    )
    for label, seconds in rows:
        print(f"  {label}")
        for size, count in sizes:
            cells = []
            for containers in (template.concurrency, 10):
                total = sweep_seconds(count, containers, seconds, cold, restart, max_pages)
                ratio = f" = {total / period:.3f} of the period" if period else ""
                cells.append(f"{containers:>2} containers {duration(total):>8}{ratio}")
            print(f"    {size:<27} " + "   ".join(cells))
    worst = template.batch * run.never.seconds + cold
    print(
        f"  worst batch: {template.batch} never-settling pages ({run.never.seconds:.2f} s each, measured) + a cold launch "
        f"= {worst:.0f} s against the RenderFunction's Timeout {template.timeout} s\n"
    )


def print_texts(run: Throughput, static: dict[str, str]) -> None:
    print("text extracted (document_text): the rendered page against the corpus page served as static HTML")
    for kind in THROUGHPUT_KINDS:
        seconds, rendered = run.extraction[kind]
        same = "yes" if rendered == static[kind] else "no"
        print(
            f"  {kind:<10} rendered {len(rendered):,} characters, static {len(static[kind]):,}: "
            f"same text: {same} (extraction {seconds:.2f} s)"
        )


def static_texts(site: Site) -> dict[str, str]:
    """The same pages as the corpus has them, fetched plainly (as the HTTP fetcher would) and extracted
    with the rendered page's URL as their base: only the rendering differs."""
    texts = {}
    for kind in THROUGHPUT_KINDS:
        url = site.documents[kind].pages[0].url
        static = url.replace(site.base_url, site.base_url + "/static", 1)
        with urllib.request.urlopen(static, timeout=10) as response:  # noqa: S310 - our loopback server
            texts[kind] = text_of(site.documents[kind], response.read(), url)
    return texts


def main() -> None:
    template = Template.read()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=40, help="pages rendered one after another (app, challenge)")
    parser.add_argument(
        "--page-seconds", type=float, default=template.page_seconds, help="RenderPageSeconds (template default)"
    )
    parser.add_argument("--max-pages", type=int, default=10, help="RENDER_MAX_PAGES of the restart run")
    parser.add_argument("--restart-pages", type=int, default=30, help="pages of the restart run")
    parser.add_argument("--network-seconds", type=float, default=3.0, help="ASSUMED network time of a real page")
    parser.add_argument("--sample-seconds", type=float, default=0.1, help="memory sampling interval")
    args = parser.parse_args()

    executable = chromium_path()
    settings = RenderSettings(executable=executable, page_seconds=args.page_seconds)
    print(
        f"Chromium {executable}, Playwright {importlib.metadata.version('playwright')}, {os.cpu_count()} CPUs; "
        f"page_seconds {settings.page_seconds:g}, settle_seconds {settings.settle_seconds:g}, "
        f"max_pages {settings.max_pages} (the product's settings but page_seconds)\n"
    )
    with demo_server() as base_url, MemorySampler(args.sample_seconds) as sampler:
        site = Site(base_url, demo_documents(base_url), executable, args.page_seconds, sampler)
        cold = cold_launches(site)
        run = one_instance(site, args.pages)
        print_throughput(run, args.page_seconds)
        restart = restarts(site, args.restart_pages, args.max_pages, cold, run.per_page)
        static = static_texts(site)
        sampler.phase = "end"
        sampler.sample()
        left = [(pid, _kind(pid)) for pid in descendants(os.getpid())]
    print_memory(sampler, args.sample_seconds, template.memory_mb, left)
    print_projections(template, run, cold, restart, args.network_seconds)
    print_texts(run, static)


if __name__ == "__main__":
    main()
