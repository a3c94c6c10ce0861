"""The fetcher against a real local HTTP server: validators, retries, limits, redirects, content types, PDFs."""

from __future__ import annotations

import io
import socket
import time
from email.utils import formatdate
from urllib.parse import urlsplit

import pytest
import requests
from pypdf import PdfWriter
from werkzeug import Request, Response

from policywatch.fetch import fetcher
from policywatch.fetch.extraction.checks import ExtractionError
from policywatch.fetch.extraction.pdf import pdf_to_markdown
from policywatch.fetch.fetcher import FetchError, FetchResult, RetryPolicy, Validators, default_user_agent
from tests.helpers.pdfs import pdf

HTML = b"<html><body><main><h1>Privacy Policy</h1><p>We keep little.</p></main></body></html>"
MB = 1024 * 1024
EXACT = RetryPolicy(jitter=0)  # waits exactly base_delay * 2 ** (n - 1), so tests can compare them


def fetch(url: str, **kwargs) -> FetchResult:
    """The fetcher, allowed to reach the local test server ``url`` names (over http, at 127.0.0.1).

    In production FETCH_ALLOWLIST is empty; tests of the address rules pass ``allowlist`` themselves.
    """
    parts = urlsplit(url)
    kwargs.setdefault("allowlist", frozenset({f"{parts.hostname}:{parts.port}"}))
    return fetcher.fetch(url, **kwargs)


@pytest.fixture
def waits() -> list[float]:
    """Passed as ``sleep``: records each wait instead of sleeping."""
    return []


def _serve(httpserver, path="/p", body=HTML, status=200, content_type="text/html; charset=utf-8", headers=None):
    httpserver.expect_request(path).respond_with_data(body, status=status, content_type=content_type, headers=headers)
    return httpserver.url_for(path)


def _failing(httpserver, path, *responses):
    """Each response once, in order, then a 200 HTML page."""
    for status, headers in responses:
        httpserver.expect_oneshot_request(path).respond_with_data(b"server detail", status=status, headers=headers)
    return _serve(httpserver, path)


# --- validators, user agent -------------------------------------------------------------


def test_a_page_is_fetched_with_its_validators_and_an_honest_user_agent(httpserver):
    url = _serve(httpserver, headers={"ETag": '"v1"', "Last-Modified": "Wed, 21 Oct 2026 07:28:00 GMT"})
    result = fetch(url)
    assert isinstance(result, FetchResult)
    assert (result.status, result.content_type, result.body) == (200, "text/html", HTML)
    assert result.validators == Validators('"v1"', "Wed, 21 Oct 2026 07:28:00 GMT")
    assert (result.attempts, result.redirects, result.final_url, result.not_modified) == (1, (), url, False)
    assert 0 < result.elapsed < 2
    request = httpserver.log[0][0]
    assert request.headers["User-Agent"] == default_user_agent()
    assert default_user_agent().startswith("policywatch/") and "+https://" in default_user_agent()
    assert "If-None-Match" not in request.headers


def test_not_modified_sends_the_stored_validators_and_transfers_no_body(httpserver):
    stored = Validators(etag='"v1"', last_modified="Wed, 21 Oct 2026 07:28:00 GMT")
    httpserver.expect_request(
        "/p", headers={"If-None-Match": '"v1"', "If-Modified-Since": "Wed, 21 Oct 2026 07:28:00 GMT"}
    ).respond_with_response(Response(b"", status=304, headers={"ETag": '"v1"'}))
    result = fetch(httpserver.url_for("/p"), validators=stored)
    assert result.not_modified and result.status == 304
    assert result.body == b"" and result.content_type == ""
    assert result.validators == stored
    assert len(httpserver.log) == 1


# --- retries ----------------------------------------------------------------------------


def test_429_with_a_short_retry_after_is_waited_out(httpserver, waits):
    url = _failing(httpserver, "/p", (429, {"Retry-After": "1"}))
    result = fetch(url, sleep=waits.append)
    assert result.status == 200 and result.attempts == 2
    assert waits == [1.0]


def test_a_real_short_wait_counts_in_elapsed(httpserver):
    url = _failing(httpserver, "/p", (503, {"Retry-After": "0.2"}))
    result = fetch(url, retry=RetryPolicy(base_delay=0.05))
    assert result.attempts == 2 and 0.2 <= result.elapsed < 1.5


def test_429_with_a_long_retry_after_defers_to_the_queue_without_waiting(httpserver, waits):
    url = _serve(httpserver, body=b"slow down", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(FetchError) as caught:
        fetch(url, sleep=waits.append)
    error = caught.value
    assert error.retryable and error.retry_after == 3600 and error.status == 429
    assert "HTTP 429" in str(error) and "3600 s" in str(error) and "slow down" not in str(error)
    assert waits == [] and len(httpserver.log) == 1


def test_retry_after_as_an_http_date(httpserver, waits):
    soon = formatdate(time.time() + 3, usegmt=True)
    url = _failing(httpserver, "/soon", (503, {"Retry-After": soon}))
    assert fetch(url, sleep=waits.append).attempts == 2
    assert waits == [pytest.approx(3, abs=1.5)]

    later = formatdate(time.time() + 7200, usegmt=True)
    url = _serve(httpserver, "/later", status=503, headers={"Retry-After": later})
    with pytest.raises(FetchError) as caught:
        fetch(url, sleep=waits.append)
    assert caught.value.retryable and caught.value.retry_after == pytest.approx(7200, abs=2)
    assert len(waits) == 1  # the long one was not waited


def test_a_server_error_then_success(httpserver, waits):
    url = _failing(httpserver, "/p", (500, None))
    result = fetch(url, retry=EXACT, sleep=waits.append)
    assert (result.status, result.attempts, result.body) == (200, 2, HTML)
    assert waits == [1.0]


def test_persistent_server_errors_give_up_after_three_attempts_with_exponential_waits(httpserver, waits):
    url = _serve(httpserver, body=b"secret stack trace", status=503)
    with pytest.raises(FetchError) as caught:
        fetch(url, retry=EXACT, sleep=waits.append)
    error = caught.value
    assert error.retryable and error.status == 503 and error.retry_after is None and error.attempts == 3
    assert str(error) == f"{url}: HTTP 503 (gave up after 3 attempts)"
    assert waits == [1.0, 2.0] and len(httpserver.log) == 3


def test_waits_are_jittered_and_capped(httpserver, waits):
    url = _serve(httpserver, status=502)
    with pytest.raises(FetchError):
        fetch(url, retry=RetryPolicy(attempts=5), sleep=waits.append)
    assert [0.5 <= waits[0] <= 1, 1 <= waits[1] <= 2, 2 <= waits[2] <= 4, 4 <= waits[3] <= 8] == [True] * 4
    assert RetryPolicy(base_delay=4, max_delay=5, jitter=0).backoff(3) == 5


def test_no_wait_is_started_past_the_deadline(httpserver, waits):
    url = _serve(httpserver, status=500)
    with pytest.raises(FetchError) as caught:
        fetch(url, retry=EXACT, deadline=time.monotonic() + 0.5, sleep=waits.append)
    assert caught.value.retryable and "deadline" in str(caught.value) and caught.value.attempts == 1
    assert waits == [] and len(httpserver.log) == 1

    with pytest.raises(FetchError, match="deadline reached before the first attempt") as caught:
        fetch(url, deadline=time.monotonic() - 1, sleep=waits.append)
    assert caught.value.retryable and len(httpserver.log) == 1


def _wait_until_idle(httpserver) -> None:
    """The test server handles one request at a time: this returns once it has finished the last one."""
    httpserver.expect_oneshot_request("/idle").respond_with_data(b"")
    requests.get(httpserver.url_for("/idle"), timeout=5).close()


def _slow(request: Request) -> Response:
    time.sleep(0.6)
    return Response(HTML, content_type="text/html")


def test_a_server_slower_than_the_read_timeout_is_retried_then_deferred(httpserver, waits):
    httpserver.expect_request("/slow").respond_with_handler(_slow)
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        fetch(httpserver.url_for("/slow"), timeout=(1, 0.5), retry=RetryPolicy(attempts=2), sleep=waits.append)
    assert caught.value.retryable and "timed out" in str(caught.value) and caught.value.attempts == 2
    assert len(waits) == 1 and time.monotonic() - started < 1.5
    _wait_until_idle(httpserver)


def test_a_body_that_stalls_times_out(httpserver, waits):
    def stalling():
        yield b"<html><body>"
        time.sleep(0.7)
        yield b"</body></html>"

    httpserver.expect_request("/stall").respond_with_response(Response(stalling(), content_type="text/html"))
    with pytest.raises(FetchError, match="timed out while reading the body") as caught:
        fetch(httpserver.url_for("/stall"), timeout=(1, 0.3), retry=RetryPolicy(attempts=1), sleep=waits.append)
    assert caught.value.retryable and caught.value.status == 200
    _wait_until_idle(httpserver)


def test_a_refused_connection_is_retryable():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    waits: list[float] = []
    with pytest.raises(FetchError, match="connection failed") as caught:
        fetch(f"http://127.0.0.1:{port}/p", sleep=waits.append)
    assert caught.value.retryable and caught.value.status is None and caught.value.attempts == 3 and len(waits) == 2


# --- size limit -------------------------------------------------------------------------


@pytest.mark.parametrize("declare_length", [True, False])
def test_a_20_mb_body_is_refused_without_reading_it_all(httpserver, monkeypatch, declare_length):
    chunk = b"x" * (64 * 1024)
    sent = {"bytes": 0, "done": False}

    def twenty_mb():
        for _ in range(20 * MB // len(chunk)):
            sent["bytes"] += len(chunk)
            yield chunk
        sent["done"] = True

    read = []
    iter_content = requests.Response.iter_content

    def counted(self, *args, **kwargs):
        for part in iter_content(self, *args, **kwargs):
            read.append(len(part))
            yield part

    monkeypatch.setattr(requests.Response, "iter_content", counted)
    headers = {"Content-Length": str(20 * MB)} if declare_length else {}
    httpserver.expect_request("/huge").respond_with_response(
        Response(twenty_mb(), content_type="text/html", headers=headers)
    )
    with pytest.raises(FetchError) as caught:
        fetch(httpserver.url_for("/huge"))
    error = caught.value
    assert not error.retryable and error.attempts == 1
    assert "over the 5242880-byte limit (5 MB)" in str(error)
    if declare_length:
        assert "page is 20971520 bytes" in str(error) and read == []  # refused before reading
    else:
        assert 5 * MB < sum(read) <= 5 * MB + 64 * 1024  # read one chunk past the limit, then stopped
    _wait_until_idle(httpserver)
    assert not sent["done"] and sent["bytes"] < 20 * MB  # the server saw the connection close
    assert len([r for r, _ in httpserver.log if r.path == "/huge"]) == 1


# --- redirects --------------------------------------------------------------------------


def _chain(httpserver, hops: int) -> str:
    """/hop0 -> /hop1 -> ... -> /hop{hops}, which serves the page; statuses and Location forms vary."""
    statuses = [301, 302, 303, 307, 308]
    for i in range(hops):
        target = f"hop{i + 1}" if i % 2 else httpserver.url_for(f"/hop{i + 1}")  # relative and absolute
        httpserver.expect_request(f"/hop{i}").respond_with_data(
            b"", status=statuses[i % len(statuses)], headers={"Location": target}
        )
    _serve(httpserver, f"/hop{hops}")
    return httpserver.url_for("/hop0")


@pytest.mark.parametrize("hops", [3, 5])
def test_redirects_are_followed_and_recorded(httpserver, hops):
    result = fetch(_chain(httpserver, hops))
    assert result.body == HTML and result.final_url == httpserver.url_for(f"/hop{hops}")
    assert result.redirects[:3] == (
        (301, httpserver.url_for("/hop1")),
        (302, httpserver.url_for("/hop2")),
        (303, httpserver.url_for("/hop3")),
    )
    assert len(result.redirects) == hops and result.attempts == 1


def test_too_many_redirects_fail_clearly(httpserver):
    with pytest.raises(FetchError) as caught:
        fetch(_chain(httpserver, 6))
    assert not caught.value.retryable and "more than 5 redirects" in str(caught.value)
    assert len(httpserver.log) == 6


def test_a_redirect_out_of_http_fails_clearly(httpserver):
    httpserver.expect_request("/p").respond_with_data(b"", status=302, headers={"Location": "ftp://example.com/x"})
    with pytest.raises(FetchError, match="scheme 'ftp' is not http or https") as caught:
        fetch(httpserver.url_for("/p"))
    assert not caught.value.retryable and caught.value.status == 302


# --- content types, PDFs ----------------------------------------------------------------

POLICY_PDF = pdf(
    ["Acme Usage Policy", "", "You may not use the service to gener-", "ate spam.", "", "Page 1 of 3"],
    ["Acme Usage Policy", "", "We may suspend accounts that", "break these rules.", "", "Page 2 of 3"],
    ["Acme Usage Policy", "", "Contact: legal@acme.test", "", "Page 3 of 3"],
)


def test_a_pdf_is_fetched_and_read(httpserver):
    url = _serve(httpserver, "/policy.pdf", body=POLICY_PDF, content_type="application/pdf")
    result = fetch(url)
    assert result.content_type == "application/pdf" and result.is_pdf and result.body == POLICY_PDF
    assert pdf_to_markdown(result.body) == (
        "You may not use the service to generate spam.\n\n"
        "We may suspend accounts that break these rules.\n\n"
        "Contact: legal@acme.test\n"
    )


@pytest.mark.parametrize("declared", ["text/html; charset=utf-8", "application/octet-stream"])
def test_a_pdf_is_recognised_by_its_bytes(httpserver, declared):
    result = fetch(_serve(httpserver, "/doc", body=POLICY_PDF, content_type=declared))
    assert result.content_type == "application/pdf"


def test_octet_stream_that_is_not_a_pdf_is_refused(httpserver):
    with pytest.raises(FetchError, match="unsupported content type 'application/octet-stream'"):
        fetch(_serve(httpserver, "/doc", body=b"\x00\x01", content_type="application/octet-stream"))


@pytest.mark.parametrize("content_type", ["image/png", "application/json"])
def test_other_content_types_fail_without_retry(httpserver, waits, content_type):
    url = _serve(httpserver, body=b"{}", content_type=content_type)
    with pytest.raises(FetchError) as caught:
        fetch(url, sleep=waits.append)
    assert str(caught.value) == f"{url}: unsupported content type {content_type!r} (policywatch reads HTML and PDF)"
    assert not caught.value.retryable and waits == [] and len(httpserver.log) == 1


def test_pdf_text_is_cleaned_into_paragraphs():
    two_pages = pdf(
        ["Header  kept  on   two pages", "", "\u2022 first item", "\u2022 second item", "", "A para-", "graph that"],
        ["continues on the next page.", "", "50-", "50 stays apart, fine."],
    )
    assert pdf_to_markdown(two_pages) == (
        "Header kept on two pages\n\n"
        "- first item\n- second item\n\n"
        "A paragraph that continues on the next page.\n\n"
        "50- 50 stays apart, fine.\n"
    )


def _encrypted(data: bytes) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(data))
    writer.encrypt(user_password="hunter2", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "kind", "detail"),
    [
        (b"%PDF-1.4\nnot really a pdf", "unreadable-pdf", "PdfStreamError"),
        (POLICY_PDF[: len(POLICY_PDF) // 2], "unreadable-pdf", ""),
        (b"", "unreadable-pdf", "empty"),
        (_encrypted(POLICY_PDF), "unreadable-pdf", "needs a password"),
        (pdf([], []), "pdf-without-text", "no extractable text"),
    ],
    ids=["corrupt", "truncated", "empty", "encrypted", "scanned"],
)
def test_unreadable_pdfs_are_extraction_errors(data, kind, detail):
    with pytest.raises(ExtractionError) as caught:
        pdf_to_markdown(data)
    assert caught.value.kind == kind and detail in caught.value.detail


def test_a_corrupt_pdf_fetches_but_does_not_read(httpserver):
    result = fetch(_serve(httpserver, "/bad.pdf", body=b"%PDF-1.7\n\x00garbage", content_type="application/pdf"))
    with pytest.raises(ExtractionError) as caught:
        pdf_to_markdown(result.body)
    assert caught.value.kind == "unreadable-pdf"


# --- client errors, secrets -------------------------------------------------------------


def test_not_found_fails_without_retry(httpserver, waits):
    url = _serve(httpserver, body=b"no such page", status=404)
    with pytest.raises(FetchError) as caught:
        fetch(url, sleep=waits.append)
    assert str(caught.value) == f"{url}: HTTP 404"
    assert not caught.value.retryable and caught.value.status == 404 and waits == [] and len(httpserver.log) == 1


def test_errors_carry_no_credentials_or_body(httpserver):
    _serve(httpserver, "/private", body=b"internal detail", status=403)
    url = httpserver.url_for("/private").replace("://", "://alice:pa55word@") + "?lang=en&token=abc123"
    with pytest.raises(FetchError) as caught:
        fetch(url)
    message = str(caught.value)
    assert "HTTP 403" in message and "/private?lang=en&token=REDACTED" in message
    assert not any(secret in message for secret in ("alice", "pa55word", "abc123", "internal detail"))
    assert caught.value.url.startswith("http://localhost") or caught.value.url.startswith("http://127.0.0.1")


def test_archivist_keywords_still_work(httpserver):
    url = _serve(httpserver)
    result = fetch(url, validators=None, user_agent="policywatch-test", max_bytes=MB, timeout=(2, 3))
    assert result.body == HTML and httpserver.log[0][0].headers["User-Agent"] == "policywatch-test"
