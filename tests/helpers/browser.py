"""A browser for the tests: Debian's Chromium driven by Playwright, as the local stack finds it
(``devstack.ministack.chromium_path``), and what the tests hold every page to.

- ``chromium()``: one launched browser, closed on the way out.
- ``Reader``: a tab that keeps what went wrong in it (console errors, uncaught exceptions).
- ``serious_violations(page)``: axe-core's serious and critical violations (axe-playwright-python).
- ``links(page)``: every address the page links to or loads (anchors, SVG anchors, stylesheets,
  feeds, scripts, images), absolute, without fragments.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from devstack.ministack import chromium_path

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Error, Page

__all__ = ["Reader", "chromium", "chromium_path", "links", "serious_violations"]

SERIOUS = frozenset({"serious", "critical"})

# SVG anchors carry their address in an SVGAnimatedString; the URL constructor resolves it all.
_LINKS = """() => [...document.querySelectorAll('a[href], link[href], script[src], img[src]')].map((el) => {
  const raw = el.getAttribute('href') ?? el.getAttribute('src');
  try { const url = new URL(raw, document.baseURI); url.hash = ''; return url.href; } catch (e) { return null; }
}).filter(Boolean)"""


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium, launched with the render function's flags."""
    from playwright.sync_api import sync_playwright

    from policywatch.fetch.render import CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()


class Reader:
    """One tab, as a person uses it: ``errors()`` is what its console and scripts reported since the last call."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self._errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", self._uncaught)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self._errors.append(f"console: {message.text} ({message.location.get('url', '')})")

    def _uncaught(self, error: Error) -> None:
        self._errors.append(f"uncaught: {error}")

    def errors(self) -> list[str]:
        found, self._errors = self._errors, []
        return found


def serious_violations(page: Page) -> tuple[list[tuple[str, str, int]], list[dict[str, Any]]]:
    """(serious and critical violations as (rule, impact, nodes), every violation axe reported)."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    serious = [(v["id"], v["impact"], len(v["nodes"])) for v in violations if v["impact"] in SERIOUS]
    return serious, violations


def links(page: Page) -> list[str]:
    """Every address the page links to or loads, absolute and without fragments, in page order, once each."""
    return list(dict.fromkeys(page.evaluate(_LINKS)))
