"""The browser renderer: real headless Chromium (Playwright) against pages served by a real local
HTTP server: text built by scripts, a JavaScript challenge that sets a cookie and reloads, a
page that never settles, a captcha, hostile requests to private addresses, a crash.

Policy text: Open Terms Archive GenAI collection, ODC-By 1.0 (../shared/corpus).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from werkzeug import Request, Response

from devstack import demo_site
from devstack.demo_site import script_literal
from policywatch.fetch.extraction.pages import document_text
from policywatch.fetch.render import Renderer, RenderSettings, unpack_chromium
from policywatch.fetch.result import FetchError
from tests.helpers.browser import chromium_path
from tests.helpers.corpus import corpus_page

CLAUDE_29 = "claude-ai/privacy-policy/2025-08-29.html"


@pytest.fixture(scope="module")
def renderer():
    made = Renderer(RenderSettings(executable=chromium_path(), page_seconds=8, settle_seconds=0.5))
    yield made
    made.close()


@pytest.fixture
def allow(renderer, httpserver):
    renderer.allowlist = frozenset({f"{httpserver.host}:{httpserver.port}"})
    yield
    renderer.allowlist = frozenset()


def _html(body: str, head: str = "") -> Response:
    return Response(f"<!doctype html><html><head>{head}</head><body>{body}</body></html>", content_type="text/html")


def _scripted(text: str, delay_ms: int = 50) -> Response:
    """A page whose policy only appears once its script ran (as OpenAI's and Meta's do)."""
    return _html(
        "<div id=app>Loading…</div><script>setTimeout(() => { document.getElementById('app').innerHTML = "
        f"'<main>' + {script_literal(text)} + '<\\/main>'; }}, {delay_ms});</script>"
    )


def test_text_built_by_scripts_is_rendered_and_marked(renderer, allow, httpserver):
    httpserver.expect_request("/privacy").respond_with_response(_scripted("<h1>Privacy</h1><p>We keep logs.</p>"))
    result = renderer.render(httpserver.url_for("/privacy"), select=("main",))
    assert result.rendered and result.status == 200 and result.content_type == "text/html"
    assert b"<main><h1>Privacy</h1><p>We keep logs.</p></main>" in result.body


def test_the_rendered_policy_is_the_text_of_the_same_policy_served_as_static_html(renderer, allow, httpserver):
    """The acceptance of issue 14: a policy built by JavaScript reads as the same policy served whole."""
    static = corpus_page(CLAUDE_29)
    httpserver.expect_request("/static").respond_with_data(static, content_type="text/html")
    httpserver.expect_request("/scripted").respond_with_data(
        demo_site.scripted(static, "app"), content_type="text/html"
    )
    from policywatch.catalog import Document, Page

    def text(url: str) -> str:
        rendered = renderer.render(url, select=("main",))
        document = Document("anthropic", "Privacy Policy", (Page(url, ("main",)),), render="browser")
        return document_text(document, [(rendered.body, rendered.content_type, rendered.final_url)])

    assert text(httpserver.url_for("/scripted")) == text(httpserver.url_for("/static"))


def test_a_javascript_challenge_that_sets_a_cookie_and_reloads_is_passed(renderer, allow, httpserver):
    def handler(request: Request) -> Response:
        if request.cookies.get("passed") == "1":
            return _html("<main><p>The policy, after the challenge.</p></main>")
        return _html("<p>Checking your browser…</p><script>document.cookie='passed=1; path=/'; location.reload();</script>",
                     head="<title>Just a moment...</title>")  # fmt: skip

    httpserver.expect_request("/challenged").respond_with_handler(handler)
    result = renderer.render(httpserver.url_for("/challenged"), select=("main",))
    assert b"The policy, after the challenge." in result.body


def test_a_page_that_never_settles_is_a_failure_within_its_limit(renderer, allow, httpserver):
    httpserver.expect_request("/never").respond_with_response(
        _html("<div id=app>Loading…</div><script>setInterval(() => fetch('/never-poll'), 100);</script>")
    )
    httpserver.expect_request("/never-poll").respond_with_data("{}")
    started = time.monotonic()
    with pytest.raises(FetchError, match="the declared selector 'main' did not appear") as raised:
        renderer.render(httpserver.url_for("/never"), select=("main",), deadline=time.monotonic() + 3)
    assert not raised.value.retryable and time.monotonic() - started < 6


def test_a_captcha_is_rendered_as_it_is_and_refused_by_the_page_check(renderer, allow, httpserver):
    from policywatch.catalog import Document, Page
    from policywatch.fetch.extraction.checks import ExtractionError

    httpserver.expect_request("/captcha").respond_with_response(
        _html(
            "<main><p>Verify you are human by completing the action below.</p><div class=g-recaptcha></div></main>",
            head="<title>Just a moment...</title>",
        )  # fmt: skip
    )
    url = httpserver.url_for("/captcha")
    rendered = renderer.render(url, select=("main",))
    document = Document("anthropic", "Privacy Policy", (Page(url, ("main",)),), render="browser")
    with pytest.raises(ExtractionError) as refused:
        document_text(document, [(rendered.body, rendered.content_type, rendered.final_url)])
    assert refused.value.kind == "bot-wall"


def test_requests_to_private_addresses_are_never_made(renderer, httpserver):
    """Not allowlisted, the local server is a loopback address: refused before the browser goes."""
    with pytest.raises(FetchError, match="refused") as raised:
        renderer.render(httpserver.url_for("/privacy"), select=("main",))
    assert not raised.value.retryable
    assert not httpserver.log  # nothing reached the server


def test_a_page_cannot_make_the_browser_reach_a_private_address(renderer, allow, httpserver):
    """The page is allowed; what its scripts ask of another private address (the cloud metadata
    endpoint, another loopback port) is aborted, and so are images, media, fonts and trackers."""
    seen: list[str] = []
    httpserver.expect_request("/hostile").respond_with_response(
        _html(
            "<main><p>Policy.</p><img src='/pixel.png'><img src='https://www.google-analytics.com/collect'></main>"
            "<script>fetch('http://169.254.169.254/latest/meta-data/').catch(() => {});"
            "fetch('http://127.0.0.1:9/').catch(() => {});</script>"
        )  # fmt: skip
    )
    httpserver.expect_request("/pixel.png").respond_with_handler(lambda r: seen.append(r.path) or Response(b""))
    result = renderer.render(httpserver.url_for("/hostile"), select=("main",))
    assert b"Policy." in result.body and seen == []


def test_4xx_and_5xx_answers_are_failures_as_for_plain_fetches(renderer, allow, httpserver):
    httpserver.expect_request("/gone").respond_with_data("gone", status=404)
    httpserver.expect_request("/down").respond_with_data("down", status=503)
    with pytest.raises(FetchError, match="HTTP 404") as gone:
        renderer.render(httpserver.url_for("/gone"))
    with pytest.raises(FetchError, match="HTTP 503") as down:
        renderer.render(httpserver.url_for("/down"))
    assert not gone.value.retryable and down.value.retryable


def test_the_browser_is_reused_then_restarted_after_its_page_limit_and_after_a_crash(allow, httpserver):
    httpserver.expect_request("/p").respond_with_response(_html("<main><p>Policy.</p></main>"))
    made = Renderer(RenderSettings(executable=chromium_path(), max_pages=2, settle_seconds=0.2))
    made.allowlist = frozenset({f"{httpserver.host}:{httpserver.port}"})
    try:
        for _ in range(3):
            made.render(httpserver.url_for("/p"), select=("main",))
        assert made.launches == 2  # the third page started a new browser
        made._on_thread(lambda: made._browser.close())  # a crash, as far as the renderer can tell
        assert b"Policy." in made.render(httpserver.url_for("/p"), select=("main",)).body
        assert made.launches == 3
        made._on_thread(lambda: made._playwright.stop())  # the driver itself gone
        assert b"Policy." in made.render(httpserver.url_for("/p"), select=("main",)).body
        assert made.launches == 4
    finally:
        made.close()
    assert made._browser is None and made._playwright is None  # the driver stopped too


def test_calls_from_other_threads_share_the_one_browser(renderer, allow, httpserver):
    from concurrent.futures import ThreadPoolExecutor

    httpserver.expect_request("/t").respond_with_response(_html("<main><p>Policy.</p></main>"))
    launches = renderer.launches
    with ThreadPoolExecutor(4) as pool:
        bodies = list(pool.map(lambda _: renderer.render(httpserver.url_for("/t"), select=("main",)).body, range(4)))
    assert all(b"Policy." in body for body in bodies) and renderer.launches == launches


def test_chromium_from_the_lambda_layer_is_unpacked_once_whole_and_executable(tmp_path):
    """The AWS path (docs/rendering.md): no executable set, the Chromium layer's brotli-compressed
    build (npm's @sparticuz/chromium, as layers/chromium/Makefile packs it) unpacked into /tmp.
    Here a stand-in layer (this machine's Chromium binary compressed the same way): the unpacking,
    not the Amazon Linux build itself (docs/rendering.md: it rendered here with this renderer)."""
    import brotli

    layer = tmp_path / "opt-chromium"
    layer.mkdir()
    real = Path(os.path.realpath(chromium_path()))
    if real.suffix == "" and real.read_bytes()[:2] == b"#!":  # Debian's wrapper script: the binary beside it
        real = Path("/usr/lib/chromium/chromium")
    (layer / "chromium.br").write_bytes(brotli.compress(real.read_bytes(), quality=1))
    target = tmp_path / "unpacked"
    executable, env = unpack_chromium(layer, target)
    assert Path(executable).stat().st_mode & 0o111 and str(target) in str(env["LD_LIBRARY_PATH"])
    assert unpack_chromium(layer, target)[0] == executable  # once per container
