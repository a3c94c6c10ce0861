"""Sweep and fetch handlers against moto, with policy pages served by a real local HTTP server."""

import json

import boto3
import fetch_handler
import pytest
import sweep_handler
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from werkzeug import Response

from policywatch.archive import CATALOG_KEY
from tests.conftest import corpus_page
from tests.integration.conftest import REGION, sqs_event


def _job(url: str, select=("main",), render="http") -> dict:
    return {
        "platform": "anthropic",
        "type": "Privacy Policy",
        "render": render,
        "pages": [{"url": url, "select": list(select), "remove": []}],
    }


def _serve(httpserver, page: bytes, path="/legal/privacy", status=200, headers=None):
    httpserver.clear()
    httpserver.expect_request(path).respond_with_response(
        Response(page, status=status, headers={"Content-Type": "text/html; charset=utf-8", **(headers or {})})
    )
    return httpserver.url_for(path)


def _state(key="anthropic/privacy-policy"):
    return (
        boto3.resource("dynamodb", region_name=REGION)
        .Table("documents")
        .get_item(Key={"document_key": key})
        .get("Item")
    )


def test_a_version_is_archived_only_when_the_text_changes(stack, context, httpserver):
    url = _serve(httpserver, corpus_page("claude-ai/privacy-policy/2025-08-28.html"))
    assert fetch_handler.handler(sqs_event(_job(url)), context) == {"batchItemFailures": []}
    versions = stack.keys("versions/")
    assert len(versions) == 1 and versions[0].startswith("versions/anthropic/privacy-policy/")
    head = stack.s3.head_object(Bucket=stack.bucket, Key=versions[0])
    assert head["Metadata"]["source-url"] == url
    assert len(head["Metadata"]["sha256"]) == 64
    assert len(stack.keys("snapshots/")) == 1

    fetch_handler.handler(sqs_event(_job(url)), context)  # same page again
    assert len(stack.keys("versions/")) == 1 and len(stack.keys("snapshots/")) == 1

    _serve(httpserver, corpus_page("claude-ai/privacy-policy/2025-08-29.html"))
    fetch_handler.handler(sqs_event(_job(url)), context)
    assert len(stack.keys("versions/")) == 2
    state = _state()
    assert state["consecutive_failures"] == 0 and state["last_version_key"] == stack.keys("versions/")[-1]
    assert len(state["recent_fingerprints"]) == 2


def test_markup_only_change_stores_the_snapshot_but_no_version(stack, context, httpserver):
    page = corpus_page("claude-ai/privacy-policy/2025-08-28.html")
    url = _serve(httpserver, page)
    fetch_handler.handler(sqs_event(_job(url)), context)
    _serve(httpserver, page.replace(b"<main", b'<main data-build="2"', 1))
    fetch_handler.handler(sqs_event(_job(url)), context)
    assert len(stack.keys("snapshots/")) == 2
    assert len(stack.keys("versions/")) == 1


def test_not_modified_transfers_nothing_and_writes_nothing(stack, context, httpserver):
    page = corpus_page("claude-ai/privacy-policy/2025-08-28.html")
    url = _serve(httpserver, page, headers={"ETag": '"v1"'})
    fetch_handler.handler(sqs_event(_job(url)), context)
    httpserver.clear()
    httpserver.expect_request("/legal/privacy", headers={"If-None-Match": '"v1"'}).respond_with_response(
        Response(b"", status=304)
    )
    fetch_handler.handler(sqs_event(_job(url)), context)
    assert len(stack.keys("snapshots/")) == 1 and len(stack.keys("versions/")) == 1
    assert _state()["consecutive_failures"] == 0


def test_broken_selector_is_recorded_as_a_failure_never_as_an_empty_version(stack, context, httpserver):
    url = _serve(httpserver, corpus_page("le-chat/privacy-policy/2026-08-21.html"))
    assert fetch_handler.handler(sqs_event(_job(url, select=["#privacy-policy"])), context) == {"batchItemFailures": []}
    assert stack.keys("versions/") == [] and stack.keys("snapshots/") == []
    state = _state()
    assert state["consecutive_failures"] == 1
    assert "selector-matched-nothing" in state["last_error"]


def test_error_page_served_with_200_is_not_a_version(stack, context, httpserver):
    url = _serve(httpserver, b"<html><body><main><h1>Access denied</h1></main></body></html>")
    fetch_handler.handler(sqs_event(_job(url)), context)
    assert stack.keys("versions/") == []
    assert "text-too-short" in _state()["last_error"]


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_are_retried_through_the_queue(stack, context, httpserver, status):
    url = _serve(httpserver, b"oops", status=status)
    with pytest.raises(BatchProcessingError):  # every record failed: SQS retries, then the DLQ
        fetch_handler.handler(sqs_event(_job(url)), context)
    assert f"HTTP {status}" in _state()["last_error"]
    assert stack.keys() == []


def test_client_errors_huge_pages_and_wrong_types_fail_without_retry(stack, context, httpserver, monkeypatch):
    url = _serve(httpserver, b"gone", status=404)
    assert fetch_handler.handler(sqs_event(_job(url)), context) == {"batchItemFailures": []}
    assert "HTTP 404" in _state()["last_error"]

    monkeypatch.setenv("MAX_PAGE_BYTES", "100000")
    url = _serve(httpserver, corpus_page("claude-ai/privacy-policy/2025-08-28.html"))
    fetch_handler.handler(sqs_event(_job(url)), context)
    assert "over the 100000-byte limit" in _state()["last_error"]

    httpserver.clear()
    httpserver.expect_request("/doc.pdf").respond_with_data(b"%PDF-1.4", content_type="application/zip")
    fetch_handler.handler(sqs_event(_job(httpserver.url_for("/doc.pdf"))), context)
    assert "unsupported content type 'application/zip'" in _state()["last_error"]
    assert stack.keys() == []


def test_script_rendered_documents_are_reported_as_needing_a_browser(stack, context, httpserver):
    fetch_handler.handler(sqs_event(_job(httpserver.url_for("/x"), render="browser")), context)
    assert "needs-browser" in _state()["last_error"]
    assert len(httpserver.log) == 0 and stack.keys() == []


def test_one_bad_job_does_not_fail_the_batch(stack, context, httpserver):
    httpserver.expect_request("/ok").respond_with_data(
        corpus_page("claude-ai/privacy-policy/2025-08-28.html"), content_type="text/html"
    )
    httpserver.expect_request("/down").respond_with_data(b"", status=502)
    ok = _job(httpserver.url_for("/ok"))
    down = {**_job(httpserver.url_for("/down")), "platform": "openai"}
    result = fetch_handler.handler(sqs_event(ok, down), context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert len(stack.keys("versions/")) == 1


def test_sweep_enqueues_every_packaged_document(stack, context):
    result = sweep_handler.handler({}, context)
    assert result["documents"] >= 35
    attributes = stack.sqs.get_queue_attributes(
        QueueUrl=stack.fetch_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert int(attributes["Attributes"]["ApproximateNumberOfMessages"]) == result["documents"]


def test_sweep_prefers_the_operators_catalog_override(stack, context):
    override = {
        "platforms": [
            {
                "id": "demo",
                "name": "Demo",
                "operator": "Demo",
                "documents": [
                    {"type": "Privacy Policy", "pages": [{"url": "http://127.0.0.1:9/p", "select": ["main"]}]}
                ],
            }
        ]
    }
    stack.s3.put_object(Bucket=stack.bucket, Key=CATALOG_KEY, Body=json.dumps(override))
    assert sweep_handler.handler({}, context) == {"documents": 1, "platforms": 1}
    message = stack.sqs.receive_message(QueueUrl=stack.fetch_queue_url)["Messages"][0]
    assert json.loads(message["Body"])["pages"][0]["url"] == "http://127.0.0.1:9/p"


def test_sweep_refuses_an_invalid_override(stack, context):
    stack.s3.put_object(Bucket=stack.bucket, Key=CATALOG_KEY, Body=b'{"platforms": [{"id": "x"}]}')
    with pytest.raises(Exception, match="config/catalog.json#platforms\\[0\\]"):
        sweep_handler.handler({}, context)
    attributes = stack.sqs.get_queue_attributes(
        QueueUrl=stack.fetch_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_a_malformed_job_fails_clearly_and_writes_nothing(stack, context):
    with pytest.raises(BatchProcessingError, match="malformed fetch job: KeyError: 'pages'"):
        fetch_handler.handler(sqs_event({"platform": "anthropic", "type": "Privacy Policy"}), context)
    assert stack.keys() == []
