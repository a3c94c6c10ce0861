"""The fetch function under hostile servers and a failing archive: the document always says why.

Issue 11: a trickling server ran a fetch into Lambda's own timeout, which killed the batch
with nothing recorded (finding 5); a redirect to an internal address was followed (7); and
when re-extracting the previous version failed in AWS (AccessDenied on ListObjectsV2), the
job went to the dead-letter queue without a word on the document (1). Handlers run against
moto; pages come from real local servers. Policy pages: Open Terms Archive, ODC-By 1.0.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from werkzeug import Response

from bench.hostile_fetch import METADATA, redirect_to, serve, trickled_until_close
from functions.fetch import fetch_handler
from policywatch.core.settings import ConfigError
from policywatch.fetch import jobs as fetchjobs
from policywatch.storage import clients as aws
from tests.helpers.aws import REGION
from tests.helpers.corpus import corpus_page
from tests.helpers.events import LambdaContext, sqs_event

RETRIED = {"batchItemFailures": [{"itemIdentifier": "m0"}]}
OK = {"batchItemFailures": []}


def _job(url: str, select=("main",), sweep="s1") -> dict:
    pages = [{"url": url, "select": list(select), "remove": []}]
    return {"platform": "anthropic", "type": "Privacy Policy", "pages": pages, "sweep": sweep}


def _state(key="anthropic/privacy-policy") -> dict:
    table = boto3.resource("dynamodb", region_name=REGION).Table("documents")
    return table.get_item(Key={"document_key": key}).get("Item") or {}


def _host_port(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[0]


@dataclass
class ShortContext(LambdaContext):
    """An invocation with ``remaining_ms`` left when the handler starts."""

    remaining_ms: int = 60_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


# --- the deadline -----------------------------------------------------------------------------


@pytest.mark.timeout(30)  # 2 s with the fix; before it, the server decided (here: never)
def test_a_trickling_server_is_cut_off_and_the_deadline_is_recorded_on_the_document(stack, context, monkeypatch):
    monkeypatch.setenv("FETCH_BUDGET_SECONDS", "2")
    with serve(trickled_until_close) as base:
        monkeypatch.setenv("FETCH_ALLOWLIST", _host_port(base))
        started = time.monotonic()
        assert fetch_handler.handler(sqs_event(_job(f"{base}/privacy")), context) == RETRIED
        assert time.monotonic() - started < 10
    state = _state()
    assert "fetch-failed: " in state["last_error"] and "fetch deadline reached after 2 s" in state["last_error"]
    assert state["consecutive_failures"] == 1
    assert stack.keys() == []  # the cut-off body (it looked complete) was not archived


@pytest.mark.timeout(60)
def test_a_job_ends_before_the_invocation_does_with_time_to_record_it(stack, monkeypatch):
    """Per-job deadlines come from Lambda's remaining time, whatever the per-document budget."""
    monkeypatch.setenv("FETCH_BUDGET_SECONDS", "600")
    context = ShortContext(remaining_ms=31_000)  # just enough to start a job (30 s)
    with serve(trickled_until_close) as base:
        monkeypatch.setenv("FETCH_ALLOWLIST", _host_port(base))
        started = time.monotonic()
        assert fetch_handler.handler(sqs_event(_job(f"{base}/privacy")), context) == RETRIED
        took = time.monotonic() - started
    assert took < 31 - fetchjobs.FINISH_SECONDS + 3  # the job's fetch stopped FINISH_SECONDS before the end
    assert "fetch deadline reached after 1" in _state()["last_error"]  # 16 s: 31 less FINISH_SECONDS


def test_a_job_not_started_for_lack_of_time_goes_back_to_the_queue_untouched(stack, httpserver):
    url = httpserver.url_for("/privacy")
    assert fetch_handler.handler(sqs_event(_job(url)), ShortContext(remaining_ms=20_000)) == RETRIED
    assert httpserver.log == [] and _state() == {}


# --- the address rules ------------------------------------------------------------------------


def test_a_redirect_to_the_metadata_address_is_a_recorded_failure_never_retried(stack, context, monkeypatch):
    with serve(redirect_to(METADATA)) as base:
        monkeypatch.setenv("FETCH_ALLOWLIST", _host_port(base))
        assert fetch_handler.handler(sqs_event(_job(f"{base}/privacy")), context) == OK
    error = _state()["last_error"]
    assert f"fetch-failed: {base}/privacy: redirected to {METADATA}: address 169.254.169.254 is a link-local" in error
    assert stack.keys() == []


def test_without_the_allowlist_a_local_page_is_refused(stack, context, httpserver, monkeypatch):
    monkeypatch.delenv("FETCH_ALLOWLIST", raising=False)
    httpserver.expect_request("/privacy").respond_with_data(b"<html></html>", content_type="text/html")
    assert fetch_handler.handler(sqs_event(_job(httpserver.url_for("/privacy"))), context) == OK
    assert "refused" in _state()["last_error"] and httpserver.log == []


def test_a_malformed_allowlist_names_its_variable(stack, context, monkeypatch):
    monkeypatch.setenv("FETCH_ALLOWLIST", "127.0.0.1")
    with pytest.raises(ConfigError, match="FETCH_ALLOWLIST entry '127.0.0.1' is not host:port"):
        fetch_handler.handler(sqs_event(_job("https://www.anthropic.com/legal/privacy")), context)


# --- a failing archive ------------------------------------------------------------------------


def _deny(prefix: str):
    """A botocore ``before-call`` hook answering calls about keys under ``prefix`` with AccessDenied, as IAM does."""

    def hook(params, **_):
        if prefix not in json.dumps(params.get("query_string", {}), default=str):
            return None
        response = AWSResponse("https://s3.amazonaws.com/", 403, {}, None)
        error = {"Code": "AccessDenied", "Message": "User is not authorized to perform: s3:ListBucket"}
        return response, {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 403}}

    return hook


def test_an_archive_failure_is_recorded_on_the_document_and_the_job_still_retried(
    stack, context, httpserver, monkeypatch
):
    """The AWS failure of issue 11: after a declaration change, rebuilding the previous version
    from its snapshot needs ListObjectsV2 on snapshots/, which IAM refused."""
    monkeypatch.setenv("FETCH_ALLOWLIST", f"{httpserver.host}:{httpserver.port}")
    before = corpus_page("claude-ai/privacy-policy/2025-08-28.html")
    httpserver.expect_request("/privacy").respond_with_response(Response(before, content_type="text/html"))
    url = httpserver.url_for("/privacy")
    assert fetch_handler.handler(sqs_event(_job(url, select=["main p"])), context) == OK
    first = stack.keys("versions/")

    # The operator widens the selector, the site changes the same day, and listing is denied.
    httpserver.clear()
    page = corpus_page("claude-ai/privacy-policy/2025-08-29.html")
    httpserver.expect_request("/privacy").respond_with_response(Response(page, content_type="text/html"))
    events = aws.client("s3").meta.events
    events.register("before-call.s3.ListObjectsV2", _deny("snapshots/"), unique_id="deny")
    try:
        for _ in range(2):  # a retry of the same sweep's job: it counts once
            assert fetch_handler.handler(sqs_event(_job(url, sweep="s2")), context) == RETRIED
    finally:
        events.unregister("before-call.s3.ListObjectsV2", unique_id="deny")
    state = _state()
    assert state["last_error"].endswith(
        " archive-failed: ListObjectsV2 AccessDenied while re-extracting the previous version:"
        " User is not authorized to perform: s3:ListBucket"
    )
    assert state["consecutive_failures"] == 1
    assert stack.keys("versions/") == first  # nothing half-written: no version without its rebuilt predecessor

    # IAM fixed: the retried job rebuilds the previous version, then archives today's.
    assert fetch_handler.handler(sqs_event(_job(url, sweep="s2")), context) == OK
    assert len(stack.keys("versions/")) == 3
    assert _state()["consecutive_failures"] == 0 and "last_error" not in _state()
