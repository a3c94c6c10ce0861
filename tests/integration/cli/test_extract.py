"""`policywatch extract`: the text the pipeline would archive, from a URL (plain or rendered in
Chromium) or a saved file, and one-line errors for bad input. No stack involved.

Policy pages: Open Terms Archive GenAI collection, ODC-By 1.0 (../shared/corpus).
"""

from __future__ import annotations

import json

import pytest
from werkzeug import Response

from devstack import demo_site
from policywatch_cli.main import main
from tests.helpers.browser import chromium_path
from tests.helpers.corpus import corpus_page

CLAUDE_29 = "claude-ai/privacy-policy/2025-08-29.html"


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["extract", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _error(capsys, *argv: str) -> str:
    code, out, err = _run(capsys, *argv)
    assert code == 1 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    return err.removeprefix("policywatch: error: ").rstrip("\n")


def test_a_script_built_page_rendered_gives_the_text_of_the_same_policy_served_whole(capsys, httpserver):
    """Issue 14's acceptance: `--render browser` on a page whose text JavaScript builds."""
    static = corpus_page(CLAUDE_29)
    httpserver.expect_request("/static").respond_with_data(static, content_type="text/html")
    httpserver.expect_request("/app").respond_with_data(demo_site.scripted(static, "app"), content_type="text/html")
    allow = f"{httpserver.host}:{httpserver.port}"
    code, plain, verdict = _run(capsys, httpserver.url_for("/static"), "--allow", allow)
    assert code == 0 and verdict.startswith("ok: ") and "fetched over HTTP" in verdict
    code, rendered, verdict = _run(
        capsys, httpserver.url_for("/app"), "--render", "browser", "--allow", allow, "--chromium", chromium_path()
    )
    assert code == 0 and "rendered in Chromium" in verdict
    assert rendered == plain and "We may use your Inputs and Outputs to train our models" in rendered
    # Served as it is, the same page is only its loading shell: the checks refuse it.
    assert "refused as" in _error(capsys, httpserver.url_for("/app"), "--allow", allow)


def test_a_saved_file_with_its_selectors_and_the_json_form(capsys, tmp_path):
    saved = tmp_path / "privacy.html"
    saved.write_bytes(corpus_page(CLAUDE_29))
    code, out, err = _run(capsys, str(saved), "--select", "main", "--remove", "nav", "--json")
    result = json.loads(out)
    assert code == 0 and err == "" and result["verdict"] == "ok" and len(result["fingerprint"]) == 64
    assert result["chars"] > 20_000 and result["text"].startswith("# Privacy Policy")
    assert result["declaration"]["pages"][0]["remove"] == ["nav"]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--select", "div.nothing-here"], "refused as selector-matched-nothing"),
        (["--select", "div["], "invalid"),
    ],
)
def test_a_selector_that_matches_nothing_or_is_not_css_is_one_line(capsys, tmp_path, argv, says):
    saved = tmp_path / "privacy.html"
    saved.write_bytes(corpus_page(CLAUDE_29))
    assert says in _error(capsys, str(saved), *argv)


def test_bad_sources_are_one_line_each(capsys, tmp_path, httpserver):
    binary = tmp_path / "logo.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert "a binary file, not an HTML page or a PDF" in _error(capsys, str(binary))
    assert "cannot read" in _error(capsys, str(tmp_path / "missing.html"))
    assert "only http(s) URLs and files" in _error(capsys, "ftp://example.com/policy")
    assert "needs a URL" in _error(capsys, str(binary), "--render", "browser")
    # the pipeline's address rules: loopback refused unless allowed, 4xx and 5xx named
    assert "refused (https only, unless the host is allowed with --allow)" in _error(capsys, httpserver.url_for("/p"))
    httpserver.expect_request("/gone").respond_with_response(Response("gone", status=404))
    assert "HTTP 404" in _error(capsys, httpserver.url_for("/gone"), "--allow", f"{httpserver.host}:{httpserver.port}")
    assert "--allow" in _error(capsys, httpserver.url_for("/gone"), "--allow", "not a host")
