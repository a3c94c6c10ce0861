"""What a subscriber sees: the alert and digest emails opened in a real Chromium (Playwright), at
a phone's width and a desktop's, screenshotted (under .local/screenshots/, to look at), and held
to what a reader needs: the language declared, one title, headings in order, every link and
image named, text contrast of at least 4.5:1 (WCAG AA), nothing wider than the screen, nothing
fetched from the network (a mail client blocks remote content; the email must not need it), and
no violation at all of axe-core's rules (axe-playwright-python, which carries axe-core). The
unsubscribe page, the one page every e-mail links to, is held to the same.

The change: Claude.ai's privacy policy of 2025-08-29 (Open Terms Archive GenAI collection, ODC-By 1.0).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from policywatch.messages.render import alert_email, digest_email
from policywatch.subscribers.tiers import tier
from policywatch.web.pages import message
from tests.helpers.browser import chromium_path
from tests.helpers.messages import LINKS, UNSUBSCRIBE, sample_change

SCREENSHOTS = Path(__file__).resolve().parents[3] / ".local" / "screenshots"
WIDTHS = {"phone": 375, "desktop": 1024}

# Run in the page: what a reader with a screen reader, a small screen or weak sight meets.
AUDIT = """() => {
  const luminance = (rgb) => {
    const [r, g, b] = rgb.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number).map((v) => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const bg = getComputedStyle(el).backgroundColor;
      if (bg && !bg.startsWith('rgba(0, 0, 0, 0)') && bg !== 'transparent') return bg;
    }
    return 'rgb(255, 255, 255)';
  };
  const lowContrast = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node; (node = walker.nextNode());) {
    const text = node.textContent.trim();
    const el = node.parentElement;
    if (!text || !el || el.offsetParent === null && getComputedStyle(el).position !== 'fixed') continue;
    const [l1, l2] = [luminance(getComputedStyle(el).color), luminance(background(el))].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    if (ratio < 4.5) lowContrast.push(`${text.slice(0, 40)} (${ratio.toFixed(2)})`);
  }
  const levels = [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map((h) => Number(h.tagName[1]));
  return {
    lang: document.documentElement.lang,
    title: document.title,
    h1: document.querySelectorAll('h1').length,
    skipped: levels.some((level, i) => i > 0 && level > levels[i - 1] + 1),
    unnamedLinks: [...document.querySelectorAll('a')].filter((a) => !(a.innerText || a.getAttribute('aria-label') || '').trim()).length,
    unnamedImages: [...document.querySelectorAll('img')].filter((img) => !img.hasAttribute('alt')).length,
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    lowContrast,
  };
}"""


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    from policywatch.fetch.render import CHROMIUM_ARGS

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=list(CHROMIUM_ARGS))
        yield launched
        launched.close()


def _emails() -> dict[str, str]:
    change = sample_change()
    return {
        "alert-watcher": alert_email(change, tier("watcher"), LINKS).for_recipient(UNSUBSCRIBE).html,
        "alert-professional": alert_email(change, tier("professional"), LINKS).for_recipient(UNSUBSCRIBE).html,
        "digest-free": digest_email([change], "2025-08-25", tier("free"), LINKS).for_recipient(UNSUBSCRIBE).html,
        "unsubscribe-page": message(
            200, "Unsubscribe", "Stop every policywatch alert and digest to this address?", form_action="?s=a&t=b"
        ).body,
    }


@pytest.mark.parametrize("name", sorted(_emails()))
@pytest.mark.parametrize("screen", sorted(WIDTHS))
def test_each_email_reads_well_in_a_browser_at_every_width(browser, name, screen):
    html = _emails()[name]
    context = browser.new_context(viewport={"width": WIDTHS[screen], "height": 800}, java_script_enabled=True)
    requested: list[str] = []
    context.route("**/*", lambda route, request: (requested.append(request.url), route.abort()))
    page = context.new_page()
    page.set_content(html, wait_until="load")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{screen}.png"), full_page=True)
    audit = page.evaluate(AUDIT)
    violations = [(v["id"], v["impact"], len(v["nodes"])) for v in Axe().run(page).response["violations"]]
    visible = page.inner_text("body")
    context.close()

    assert violations == [], "axe-core"
    if name != "unsubscribe-page":
        assert "Anthropic (Claude)" in visible and "Privacy Policy" in visible
    assert requested == []  # no remote image, font or style: it reads the same with remote content blocked
    assert audit["lang"] == "en" and audit["title"]
    assert audit["h1"] == 1 and not audit["skipped"], "one title, headings in order"
    assert audit["unnamedLinks"] == 0 and audit["unnamedImages"] == 0
    assert audit["overflow"] <= 0, f"wider than a {WIDTHS[screen]} px screen by {audit['overflow']} px"
    assert audit["lowContrast"] == [], "text under 4.5:1 contrast"
