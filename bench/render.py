"""Benchmark: the browser renderer (headless Chromium through Playwright) on the demo site's script-built pages.

Measured in one run, on the real code path (``policywatch.fetch.render.Renderer`` driving Debian's
Chromium, ``devstack.ministack.chromium_path()``) against the demo site's pages
(``devstack.demo_site.publish(0, ...)``: Claude's privacy policy as a script-built "app",
Perplexity's behind a JavaScript "challenge" that sets a cookie and reloads, xAI's terms that
"never settle") served from a temporary directory by ``http.server`` on loopback:

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
  ``--sample-seconds`` from /proc; the sum of VmRSS counts the pages the processes share once
  per process (an upper bound), the sum of Pss (smaps_rollup) shares them out (nearer to what a
  Lambda's memory limit counts). Compared with the RenderFunction's MemorySize. Processes left by
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
from policywatch.fetch.render import Renderer, RenderSettings
from policywatch.fetch.result import FetchError, FetchResult

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parent.parent
os.environ.update({"POWERTOOLS_SERVICE_NAME": "policywatch", "POWERTOOLS_LOG_LEVEL": "ERROR"})

THROUGHPUT_KINDS = ("app", "challenge")  # never-settles is timed on its own
COLD_LAUNCHES = 3
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# ---------------------------------------------------------------- the site


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextmanager
def demo_server() -> Iterator[tuple[str, Path]]:
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
            yield f"http://127.0.0.1:{server.server_address[1]}", root
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


# ---------------------------------------------------------------- the renderer, timed


class TimedRenderer(Renderer):
    """The product's renderer, with its launches and stops timed (on the renderer's own thread)."""

    def __init__(self, settings: RenderSettings, *, allowlist: frozenset[str]) -> None:
        super().__init__(settings, allowlist=allowlist)
        self.launch_seconds: list[float] = []
        self.stop_seconds: list[float] = []

    def _launch(self) -> Browser:
        started = time.perf_counter()
        try:
            return super()._launch()
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
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="memory")
        self._kinds: dict[int, str] = {}

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        pids = [os.getpid()] + [p for p in descendants(os.getpid()) if p not in self.excluded]
        rss = pss = 0.0
        by_kind: dict[str, float] = {}
        for pid in pids:
            kind = self._kinds.get(pid) or self._kinds.setdefault(pid, _kind(pid))
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


def close(renderer: Renderer, sampler: MemorySampler) -> None:
    renderer.close()
    sampler.leave_out_what_is_left()


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


def main() -> None:  # noqa: PLR0915 - one run, printed in order
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
    product = RenderSettings()
    settings = RenderSettings(executable=executable, page_seconds=args.page_seconds)
    catalog = load_packaged()
    browser_documents = [d for d in catalog.documents() if d.render == "browser"]
    browser_pages = sum(len(d.pages) for d in browser_documents)
    print(
        f"Chromium {executable}, Playwright {importlib.metadata.version('playwright')}, {os.cpu_count()} CPUs; "
        f"page_seconds {args.page_seconds:g}, settle_seconds {settings.settle_seconds:g}, "
        f"max_pages {settings.max_pages} (product defaults but page_seconds)\n"
    )

    with demo_server() as (base_url, _root), MemorySampler(args.sample_seconds) as sampler:
        port = base_url.rsplit(":", 1)[1]
        allowlist = frozenset({f"127.0.0.1:{port}"})
        documents = demo_documents(base_url)

        def fresh(**changes: Any) -> TimedRenderer:
            values = {"executable": executable, "page_seconds": args.page_seconds, **changes}
            return TimedRenderer(RenderSettings(**values), allowlist=allowlist)

        # 1. cold launches
        sampler.phase = "cold launches"
        launches, firsts, warms = [], [], []
        for _ in range(COLD_LAUNCHES):
            renderer = fresh()
            try:
                first = render(renderer, documents["app"], "app")
                warm = render(renderer, documents["app"], "app")
            finally:
                close(renderer, sampler)
            if first.error or warm.error:
                raise SystemExit(f"the app page failed: {first.error or warm.error}")
            launches.append(renderer.launch_seconds[0])
            firsts.append(first.seconds)
            warms.append(warm.seconds)
        cold_launch = statistics.median(launches)
        print(f"cold launch ({COLD_LAUNCHES} fresh Renderers, medians)")
        print(f"  Renderer._launch (driver + Chromium) : {cold_launch:.2f} s   (each: "
              + ", ".join(f"{s:.2f}" for s in launches) + ")")  # fmt: skip
        print(f"  first page (launch included)         : {statistics.median(firsts):.2f} s")
        print(f"  the same page, warm                  : {statistics.median(warms):.2f} s")
        print(
            f"  first minus warm                     : "
            f"{statistics.median(f - w for f, w in zip(firsts, warms, strict=True)):.2f} s\n"
        )

        # 2. one instance, pages one after another; the never-settling page
        sampler.phase = "one instance"
        renderer = fresh()
        renders: list[Render] = []
        try:
            for kind in THROUGHPUT_KINDS:  # the launch, and each kind's first page: not counted
                render(renderer, documents[kind], kind)
            launched_before = renderer.launches
            started = time.perf_counter()
            for n in range(args.pages):
                kind = THROUGHPUT_KINDS[n % len(THROUGHPUT_KINDS)]
                renders.append(render(renderer, documents[kind], kind))
            wall = time.perf_counter() - started
            restarts_in_run = renderer.launches - launched_before
            never = render(renderer, documents["never-settles"], "never-settles")
            after = render(renderer, documents["app"], "app")
            extraction: dict[str, tuple[float, str]] = {}
            for kind in THROUGHPUT_KINDS:
                done = next(r for r in renders if r.kind == kind and r.result is not None)
                assert done.result is not None
                started_extraction = time.perf_counter()
                text = text_of(documents[kind], done.result.body, done.result.final_url)
                extraction[kind] = (time.perf_counter() - started_extraction, text)
        finally:
            close(renderer, sampler)
        failed = [r for r in renders if r.error]
        print(f"one instance, {len(renders)} pages one after another ({', '.join(THROUGHPUT_KINDS)} alternately)")
        print(
            f"  {len(renders) - len(failed)} rendered, {len(failed)} failed, {restarts_in_run} restarts, in {wall:.1f} s"
            f" = {len(renders) / wall * 60:.1f} pages/min ({wall / len(renders):.2f} s/page)"
        )
        for error in {r.error for r in failed}:
            print(f"  failure: {error}")
        per_kind: dict[str, list[float]] = {}
        for r in renders:
            if not r.error:
                per_kind.setdefault(r.kind, []).append(r.seconds)
        for kind, seconds in per_kind.items():
            print(
                f"  {kind:<10} n={len(seconds):>3}  p50 {percentile(seconds, 0.5):.2f} s  "
                f"p95 {percentile(seconds, 0.95):.2f} s  max {max(seconds):.2f} s"
            )
        within = never.seconds <= args.page_seconds
        print(
            f"  never-settles: failed after {never.seconds:.2f} s, limit {args.page_seconds:g} s: within the limit "
            f"{'yes' if within else f'no (over by {never.seconds - args.page_seconds:.2f} s)'}"
        )
        print(f"    {never.error or 'NOT A FAILURE: it rendered'}")
        print(
            "  the next page after it: "
            + (f"rendered in {after.seconds:.2f} s" if not after.error else f"FAILED: {after.error}")
            + "\n"
        )

        # 3. restarts
        sampler.phase = "restarts"
        renderer = fresh(max_pages=args.max_pages)
        restart_renders: list[Render] = []
        try:
            render(renderer, documents["app"], "app")  # the cold launch: not counted
            for n in range(args.restart_pages):
                kind = THROUGHPUT_KINDS[n % len(THROUGHPUT_KINDS)]
                restart_renders.append(render(renderer, documents[kind], kind))
            stops = list(renderer.stop_seconds)
            relaunches = renderer.launch_seconds[1:]
        finally:
            close(renderer, sampler)
        extras = []
        for r in restart_renders:
            if r.launched and not r.error:
                usual = [o.seconds for o in restart_renders if o.kind == r.kind and not o.launched and not o.error]
                extras.append(r.seconds - statistics.median(usual))
        print(f"restarts: {args.restart_pages} pages with max_pages {args.max_pages}: {len(relaunches)} restarts")
        restart_cost = statistics.mean(extras) if extras else 0.0
        if extras:
            print(
                f"  extra time of a page that restarted the browser : {restart_cost:.2f} s "
                f"(each: {', '.join(f'{e:.2f}' for e in extras)}; over the median page of its kind)"
            )
            print(
                f"  _stop + _launch, timed directly              : "
                f"{statistics.mean(stops) + statistics.mean(relaunches):.2f} s "
                f"(stop {statistics.mean(stops):.2f} s, launch {statistics.mean(relaunches):.2f} s: "
                f"no driver start, against {cold_launch:.2f} s cold)"
            )
            print(
                f"  at the product's max_pages {product.max_pages}: "
                f"{restart_cost / product.max_pages:.3f} s a page, "
                f"{restart_cost / product.max_pages / (wall / len(renders)):.1%} of a loopback page\n"
            )
        else:
            print("  no restart happened (raise --restart-pages above --max-pages)\n")

        # the same pages as the corpus has them, fetched plainly (as the HTTP fetcher would)
        static_texts = {}
        for kind in THROUGHPUT_KINDS:
            url = documents[kind].pages[0].url
            with urllib.request.urlopen(url.replace(base_url, base_url + "/static", 1), timeout=10) as response:  # noqa: S310 - loopback
                body = response.read()
            static_texts[kind] = text_of(documents[kind], body, url)  # the same base URL: only the rendering differs

        sampler.phase = "end"
        sampler.sample()
        left = [(pid, _kind(pid)) for pid in descendants(os.getpid())]

    # 4. memory
    print(f"peak memory ({sampler.samples} samples, every {args.sample_seconds:g} s)")
    for phase in ("cold launches", "one instance", "restarts"):
        peak = sampler.peaks.get(phase)
        if peak is None:
            continue
        kinds = ", ".join(f"{k} {v:.0f}" for k, v in sorted(peak.by_kind.items()))
        print(
            f"  {phase:<14} RSS sum {peak.rss:6.0f} MB  Pss sum {peak.pss:6.0f} MB  "
            f"({peak.processes} processes; RSS MB: {kinds})"
        )
    one = sampler.peaks["one instance"]
    print(
        f"  one instance against the RenderFunction's MemorySize {template.memory_mb} MB: "
        f"RSS {one.rss / template.memory_mb:.0%}, Pss {one.pss / template.memory_mb:.0%}"
    )
    drivers = sum(1 for _, kind in left if kind == "driver")
    print(
        f"  processes left under this one after every Renderer was closed: {len(left)} "
        f"({drivers} Playwright drivers, {sum(1 for _, k in left if k == 'chromium')} Chromium, "
        f"{sum(1 for _, k in left if k not in ('driver', 'chromium'))} other)\n"
    )

    # 5. projections
    period = schedule_seconds(template.sweep)
    per_page = wall / len(renders)
    p95 = max(percentile(seconds, 0.95) for seconds in per_kind.values())
    extract_each = statistics.mean(seconds for seconds, _ in extraction.values())
    rows: list[tuple[str, float]] = [
        (f"loopback, render only ({per_page:.2f} s/page, measured mean)", per_page),
        (f"loopback, render + extraction ({per_page + extract_each:.2f} s/page)", per_page + extract_each),
        (
            f"ASSUMED real: p95 {p95:.2f} + {args.network_seconds:g} s network + extraction "
            f"({p95 + args.network_seconds + extract_each:.2f} s/page)",
            p95 + args.network_seconds + extract_each,
        ),
    ]
    thousand_pages = round(1000 * browser_pages / len(browser_documents))
    sizes = [
        (f"{len(browser_documents)} catalog docs ({browser_pages} pages)", browser_pages),
        (f"1,000 docs ({thousand_pages} pages)", thousand_pages),
    ]
    containers = (template.concurrency, 10)
    print(
        f"projected sweep of browser documents (SweepSchedule {template.sweep}"
        + (f" = {duration(period)}" if period else ": not a rate, no ratio")
        + f"; {len(browser_documents)} of the catalog's {len(catalog.documents())} documents render in a browser)"
    )
    print(
        "  containers one page at a time each, pages spread evenly; a cold launch per container and a restart "
        f"every {product.max_pages} pages\n  added; SQS, Lambda, S3 and DynamoDB time not included. "
        "Loopback pages are faster than real ones: the ASSUMED line\n  adds a network time that was not measured."
    )
    for label, seconds in rows:
        print(f"  {label}")
        for size_label, pages in sizes:
            cells = []
            for count in containers:
                total = sweep_seconds(pages, count, seconds, cold_launch, restart_cost, product.max_pages)
                ratio = f" ({total / period:.1%} of the period)" if period else ""
                cells.append(f"{count:>2} containers {duration(total):>8}{ratio}")
            print(f"    {size_label:<26} " + "   ".join(cells))
    worst = template.batch * args.page_seconds + cold_launch
    print(
        f"  worst batch: {template.batch} pages each failing at page_seconds + a cold launch = {worst:.0f} s "
        f"against the RenderFunction's Timeout {template.timeout} s\n"
    )

    # 6. the same text as the static page
    print("text extracted (document_text): rendered page against the corpus page served as static HTML")
    for kind in THROUGHPUT_KINDS:
        rendered_text, static_text = extraction[kind][1], static_texts[kind]
        print(
            f"  {kind:<10} rendered {len(rendered_text):,} characters, static {len(static_text):,}: "
            f"same text: {'yes' if rendered_text == static_text else 'no'} "
            f"(extraction {extraction[kind][0]:.2f} s)"
        )


if __name__ == "__main__":
    main()
