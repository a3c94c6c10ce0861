"""Render a page that only shows its text after its scripts ran: headless Chromium, driven by Playwright.

Documents declared ``render: browser`` come here instead of ``policywatch.fetch.fetcher``; what
comes back is a ``FetchResult`` whose body is the rendered DOM (marked ``rendered``), and from
there the page goes through the same extraction, checks, fingerprint and archive as any other.

Reliability is the point (headless browsers are the least reliable part of every watcher):

- **One browser per warm container**, launched on first use and reused across invocations; it
  is restarted after ``max_pages`` pages, and after a crash (the page is then tried once more
  in the new browser). Playwright's synchronous API belongs to the thread that started it, so
  every call runs on the renderer's own thread, whichever thread asks.
- **A fresh context per page** (no cookies, storage or cache shared between documents), with
  downloads refused, service workers blocked, no permission granted (prompts are denied),
  and images, media, fonts and known trackers never requested.
- **Every request the page makes** is held to the fetcher's address rules
  (``policywatch.fetch.network.check_hop``): a page cannot make the browser reach a private
  address, the cloud metadata endpoint or plain http outside FETCH_ALLOWLIST. The browser
  resolves names itself, so unlike the HTTP fetcher the check and the connection may see
  different DNS answers; the network around the function is the second line (docs/architecture.md).
- **Hard limits**: the page has ``page_seconds`` to load and show the declared selector (a
  script that sets a cookie and reloads, as JavaScript challenges do, happens within it), then
  at most ``settle_seconds`` of network quiet; past the deadline it is a failure, never a hang
  and never a version. The rendered HTML is capped at the fetcher's ``max_page_bytes``.

A page that still shows a challenge after that (a captcha that needs a person) is refused by
the extraction's page check as ``bot-wall``, like any page served one.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import shutil
import stat
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from aws_lambda_powertools import Logger

from policywatch.fetch.network import Refused, Resolver, Unresolved, check_hop
from policywatch.fetch.result import FetchError, FetchResult, Validators

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright, Request, Response, Route

logger = Logger(child=True)

T = TypeVar("T")

# Chromium as the Lambda sandbox and a closed network need it: no sandbox (no user namespaces
# there), no GPU, and none of the background connections to Google a fresh profile makes.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-quic",
    "--mute-audio",
    "--autoplay-policy=user-gesture-required",
)
IMAGE_SUFFIXES = (".ico", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg", ".bmp")
BLOCKED_TYPES = frozenset({"image", "media", "font", "websocket", "eventsource", "manifest", "texttrack"})
# Trackers and analytics a policy page loads: never needed for its text. Matched on the host
# and its parents ("www.google-analytics.com" is blocked by "google-analytics.com").
TRACKERS = frozenset(
    {"google-analytics.com", "googletagmanager.com", "doubleclick.net", "googlesyndication.com",
     "googleadservices.com", "facebook.net", "connect.facebook.net", "hotjar.com", "segment.io", "segment.com",
     "mixpanel.com", "amplitude.com", "clarity.ms", "bing.com", "hs-analytics.net", "hs-scripts.com",
     "intercom.io", "intercomcdn.com", "fullstory.com", "heap.io", "heapanalytics.com", "linkedin.com",
     "licdn.com", "ads-twitter.com", "analytics.tiktok.com", "sentry.io", "datadoghq.com", "newrelic.com",
     "nr-data.net", "cookielaw.org", "onetrust.com", "cookiebot.com", "usercentrics.eu", "quantserve.com",
     "scorecardresearch.com", "crazyegg.com", "mouseflow.com", "optimizely.com", "posthog.com", "rudderstack.com"}
)  # fmt: skip


@dataclass(frozen=True)
class RenderSettings:
    """How pages are rendered; the defaults are the product's (docs/extraction.md)."""

    executable: str = ""  # Chromium's path; empty: Playwright's own lookup (not shipped here)
    page_seconds: float = 30.0  # to load and show the declared selector
    settle_seconds: float = 2.0  # network quiet after that, at most
    max_pages: int = 50  # pages per browser before it is restarted
    max_bytes: int = 5 * 1024 * 1024  # of rendered HTML
    user_agent: str = ""
    layer: Path = Path("/opt/chromium")  # the Chromium layer's compressed build, used when no executable is set


class Renderer:
    """One headless Chromium, reused; ``render`` is safe to call from any thread (one page at a time)."""

    def __init__(
        self,
        settings: RenderSettings,
        *,
        allowlist: frozenset[str] = frozenset(),
        getaddrinfo: Resolver | None = None,
    ) -> None:
        self.settings = settings
        self.allowlist = allowlist
        self.getaddrinfo = getaddrinfo
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="render")
        self._lock = threading.Lock()
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self.pages = 0  # rendered by the current browser
        self.launches = 0  # browsers launched, restarts included

    # ---------------------------------------------------------------- public

    def render(self, url: str, *, select: tuple[str, ...] = (), deadline: float | None = None) -> FetchResult:
        """Load ``url``, wait for ``select`` (any of them) or for the load and a short quiet, and
        return the rendered HTML. Raises ``FetchError`` (retryable for network failures and 5xx)."""
        deadline = (
            time.monotonic() + self.settings.page_seconds + self.settings.settle_seconds
            if deadline is None
            else deadline
        )
        with self._lock:
            return self._on_thread(lambda: self._render_once_more_after_a_crash(url, select, deadline))

    def close(self) -> None:
        """Close the browser and stop Playwright's driver (a Lambda container never needs to)."""
        with self._lock:
            self._on_thread(self._stop_all)
        self._thread.shutdown(wait=True)

    def _stop_all(self) -> None:
        self._stop()
        playwright, self._playwright = self._playwright, None
        if playwright is not None:
            with contextlib.suppress(Exception):  # a driver that died already
                playwright.stop()

    # ---------------------------------------------------------------- on the renderer's thread

    def _on_thread(self, call: Callable[[], T]) -> T:
        return self._thread.submit(call).result()

    def _render_once_more_after_a_crash(self, url: str, select: tuple[str, ...], deadline: float) -> FetchResult:
        from playwright.sync_api import Error as PlaywrightError

        for attempt in (1, 2):
            try:
                browser = self._ready(url)
            except FetchError:
                if attempt == 2:
                    raise
                continue  # a driver that died: started again on the second attempt
            try:
                # The page's own limit starts with the page: after any wait for the browser.
                limit = min(deadline, time.monotonic() + self.settings.page_seconds)
                return self._render(browser, url, select, limit, deadline)
            except PlaywrightError as error:
                if browser.is_connected() and "closed" not in str(error).lower():
                    raise FetchError(
                        url, f"the browser failed on the page: {_first_line(error)}", retryable=True
                    ) from None
                logger.warning("the browser crashed; restarting it", extra={"url": url, "attempt": attempt})
                self._stop_all()  # the driver too: it may be what died
        raise FetchError(url, "the browser crashed twice on this page", retryable=True)

    def _ready(self, url: str) -> Browser:
        if self._browser is not None and (not self._browser.is_connected() or self.pages >= self.settings.max_pages):
            self._stop()
        if self._browser is None:
            self._browser = self._launch(url)
        return self._browser

    def _launch(self, url: str = "about:blank") -> Browser:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        started = time.monotonic()
        if self._playwright is None:
            _node_runnable()
            self._playwright = sync_playwright().start()
        executable, env = self.settings.executable, None  # env None: the browser inherits ours
        if not executable and self.settings.layer.is_dir():
            executable, env = unpack_chromium(self.settings.layer, Path(tempfile.gettempdir()) / "chromium")
        try:
            browser = self._playwright.chromium.launch(
                executable_path=executable or None,
                env=env,
                args=list(CHROMIUM_ARGS),
                headless=True,
                handle_sigint=False,
                handle_sigterm=False,
                handle_sighup=False,
                timeout=30_000,
            )
        except PlaywrightError as error:
            self._stop_all()  # the next page starts the driver again too
            where = executable or "Playwright's default"
            raise FetchError(url, f"Chromium ({where}) did not start: {_first_line(error)}", retryable=True) from None
        self.pages = 0
        self.launches += 1
        logger.info(
            "browser launched", extra={"seconds": round(time.monotonic() - started, 2), "version": browser.version}
        )
        return browser

    def _stop(self) -> None:
        browser, self._browser = self._browser, None
        if browser is not None:
            try:
                browser.close()
            except Exception as error:  # noqa: BLE001 (a crashed browser may fail to close; it is gone either way)
                logger.info("browser did not close cleanly", extra={"error": _first_line(error)})

    def _render(
        self, browser: Browser, url: str, select: tuple[str, ...], limit: float, deadline: float
    ) -> FetchResult:
        """Render within ``limit`` (the page's seconds, or the job's deadline when sooner); the
        short network quiet after the selector may run past it, never past ``deadline``."""
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        if urlsplit(url).scheme.lower() not in ("http", "https"):
            raise FetchError(url, "not an http(s) URL", retryable=False)
        self.pages += 1
        guard = _RequestGuard(self.allowlist, self.getaddrinfo)
        guard.check_main(url)  # refused before the browser sees it
        context = browser.new_context(
            user_agent=self.settings.user_agent or None,
            accept_downloads=False,
            service_workers="block",
            permissions=[],
            locale="en-US",
            java_script_enabled=True,
            bypass_csp=False,
        )
        try:
            context.route("**/*", guard.route)
            page = context.new_page()
            page.on("dialog", lambda dialog: dialog.dismiss())
            left = _milliseconds(limit)
            if left <= 0:
                raise FetchError(url, "deadline reached before the page was opened", retryable=True, attempts=0)
            try:
                response = page.goto(url, wait_until="load", timeout=left)
            except PlaywrightTimeout:
                raise FetchError(url, f"the page did not load within {left / 1000:.0f} s", retryable=False) from None
            except PlaywrightError as error:
                if guard.refused:
                    raise FetchError(url, guard.refused, retryable=False) from None
                if "closed" in str(error).lower():
                    raise
                raise FetchError(url, f"the page did not load: {_first_line(error)}", retryable=True) from None
            status = _status_of(url, response, guard)
            self._settle(page, url, select, limit, deadline)
            html = _content(page, deadline)
            final_url = page.url
        except PlaywrightTimeout:
            raise FetchError(url, "the page did not settle before its deadline", retryable=False) from None
        finally:
            with contextlib.suppress(PlaywrightError):  # the browser went away: _ready restarts it
                context.close()
        body = html.encode("utf-8")
        if len(body) > self.settings.max_bytes:
            raise FetchError(url, f"rendered page over {self.settings.max_bytes:,} bytes", retryable=False)
        return FetchResult(url, final_url, status, "text/html", body, Validators(), rendered=True)

    def _settle(self, page: Page, url: str, select: tuple[str, ...], limit: float, deadline: float) -> None:
        """Wait for the declared selector (through reloads: a challenge that sets a cookie and
        reloads shows the page in the end), then for a short network quiet, capped."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        if select:
            try:
                page.wait_for_selector(", ".join(select), state="attached", timeout=max(_milliseconds(limit), 1))
            except PlaywrightTimeout:
                within = f"{self.settings.page_seconds:.0f} s" if limit < deadline else "the job's deadline"
                raise FetchError(
                    url, f"the declared selector {', '.join(select)!r} did not appear within {within}",
                    retryable=False,
                ) from None  # fmt: skip
        quiet = min(_milliseconds(deadline), self.settings.settle_seconds * 1000)
        if quiet > 0:
            with contextlib.suppress(PlaywrightTimeout):  # a page that polls for ever: its DOM as it stands
                page.wait_for_load_state("networkidle", timeout=quiet)


class _RequestGuard:
    """Decides every request of one page: the address rules, then what a policy's text never needs."""

    def __init__(self, allowlist: frozenset[str], getaddrinfo: Resolver | None) -> None:
        self.allowlist = allowlist
        self.getaddrinfo = getaddrinfo
        self.hosts: dict[tuple[str, str, int | None], str] = {}  # (scheme, host, port) -> "" or the reason
        self.refused = ""  # why the main document was refused, when it was
        self.blocked = 0

    def check_main(self, url: str) -> None:
        reason = self._reason(url)
        if reason:
            raise FetchError(url, reason, retryable=reason.startswith("host name"))

    def route(self, route: Route, request: Request) -> None:
        url = request.url
        scheme = urlsplit(url).scheme.lower()
        if scheme in ("data", "blob", "about"):
            route.continue_()
            return
        reason = self._reason(url)
        main = request.is_navigation_request() and request.frame.parent_frame is None
        if reason:
            if main:
                self.refused = reason
            self.blocked += 1
            route.abort("blockedbyclient")
            return
        if not main and (request.resource_type in BLOCKED_TYPES or _is_tracker(url) or _is_image(url)):
            self.blocked += 1
            route.abort("blockedbyclient")
            return
        route.continue_()

    def _reason(self, url: str) -> str:
        parts = urlsplit(url)
        key = (parts.scheme.lower(), (parts.hostname or "").lower(), parts.port)
        if key not in self.hosts:
            try:
                check_hop(url, self.allowlist, getaddrinfo=self.getaddrinfo)
                self.hosts[key] = ""
            except (Refused, Unresolved) as error:
                self.hosts[key] = str(error)
        return self.hosts[key]


def _status_of(url: str, response: Response | None, guard: _RequestGuard) -> int:
    if guard.refused:
        raise FetchError(url, guard.refused, retryable=False)
    if response is None:  # same-document navigation: nothing to say about it
        return 200
    status = response.status
    if status >= 500 or status == 429:
        raise FetchError(url, f"HTTP {status}", retryable=True, status=status)
    if status >= 400:
        raise FetchError(url, f"HTTP {status}", retryable=False, status=status)
    return status


def _content(page: Page, deadline: float) -> str:
    """The DOM as HTML; a navigation under way (a challenge reloading) is waited out, within the deadline."""
    from playwright.sync_api import Error as PlaywrightError

    while True:
        try:
            return page.content()
        except PlaywrightError as error:
            if "navigat" not in str(error).lower() or _milliseconds(deadline) <= 0:
                raise
            page.wait_for_load_state("load", timeout=max(_milliseconds(deadline), 1))


def find_chromium() -> str | None:
    """Chromium on this machine: ``CHROMIUM_PATH``, else ``chromium`` (Debian's) on PATH."""
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


def unpack_chromium(layer: Path, target: Path) -> tuple[str, dict[str, str | float | bool]]:
    """Chromium from the Chromium layer (npm's @sparticuz/chromium: ``chromium.br`` and its
    libraries, fonts and SwiftShader as ``*.tar.br``) unpacked into ``target`` once per container;
    returns the executable and the environment it runs in (its libraries and fonts)."""
    import brotli  # only on Lambda: the render layer carries it

    executable = target / "chromium"
    if not executable.exists():
        target.mkdir(parents=True, exist_ok=True)
        for archive in sorted(layer.glob("*.tar.br")):
            with tarfile.open(fileobj=io.BytesIO(brotli.decompress(archive.read_bytes()))) as tar:
                tar.extractall(target, filter="data")
        partial = target / "chromium.part"
        partial.write_bytes(brotli.decompress((layer / "chromium.br").read_bytes()))
        partial.chmod(0o755)
        partial.rename(executable)  # whole or absent: a container killed half-way unpacks again
    env: dict[str, str | float | bool] = {
        **os.environ,
        "LD_LIBRARY_PATH": os.pathsep.join(
            filter(None, (str(target / "lib"), str(target), os.environ.get("LD_LIBRARY_PATH")))
        ),
        "FONTCONFIG_PATH": str(target),
        "HOME": str(target),
    }
    return str(executable), env


def _node_runnable() -> None:
    """Make sure Playwright's driver can start: the Node.js its wheel carries must be executable.

    A layer unpacked without file modes (MiniStack's Lambdas, some zip tools) leaves it
    without its execute bit: it is set again where the layer is writable, else a copy in /tmp
    is made executable and named in PLAYWRIGHT_NODEJS_PATH (Lambda's /opt is read-only)."""
    if os.environ.get("PLAYWRIGHT_NODEJS_PATH"):
        return
    import playwright

    node = Path(playwright.__file__).parent / "driver" / "node"
    packed = node.with_name("node.gz")  # the render layer's (layers/render-deps/Makefile)
    if not node.is_file() and packed.is_file():
        unpacked = Path(tempfile.gettempdir()) / "policywatch-node"
        if not unpacked.exists():
            partial = unpacked.with_suffix(".part")
            with gzip.open(packed) as source, partial.open("wb") as sink:
                shutil.copyfileobj(source, sink)
            partial.chmod(0o755)
            partial.rename(unpacked)
        os.environ["PLAYWRIGHT_NODEJS_PATH"] = str(unpacked)
        return
    if not node.is_file() or os.access(node, os.X_OK):
        return
    try:
        node.chmod(node.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return
    except OSError:
        pass
    copy = Path(tempfile.gettempdir()) / "policywatch-node"
    if not copy.exists():
        shutil.copyfile(node, copy)
    copy.chmod(0o755)
    os.environ["PLAYWRIGHT_NODEJS_PATH"] = str(copy)


def _is_image(url: str) -> bool:
    """An icon or image requested as something else (``<link rel=icon>`` arrives as "other")."""
    return urlsplit(url).path.lower().endswith(IMAGE_SUFFIXES)


def _is_tracker(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    parts = host.split(".")
    return any(".".join(parts[i:]) in TRACKERS for i in range(len(parts) - 1))


def _milliseconds(deadline: float) -> float:
    return max((deadline - time.monotonic()) * 1000, 0)


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]


__all__ = [
    "BLOCKED_TYPES",
    "CHROMIUM_ARGS",
    "TRACKERS",
    "RenderSettings",
    "Renderer",
    "find_chromium",
    "unpack_chromium",
]
