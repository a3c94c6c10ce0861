"""Sweep and fetch handlers against moto, with policy pages served by a real local HTTP server.

Policy pages: Open Terms Archive GenAI collection, ODC-By 1.0 (../shared/corpus).
"""

import json
import re

import boto3
import pytest
from werkzeug import Response

from devstack import demo_site
from functions.fetch import fetch_handler, sweep_handler
from policywatch.fetch.jobs import backoff_seconds
from policywatch.storage.archive import CATALOG_KEY
from tests.helpers.aws import REGION
from tests.helpers.corpus import corpus_page
from tests.helpers.events import sqs_event
from tests.helpers.faults import Faults
from tests.helpers.pdfs import pdf

CLAUDE_28 = "claude-ai/privacy-policy/2025-08-28.html"
CLAUDE_29 = "claude-ai/privacy-policy/2025-08-29.html"
pytestmark = pytest.mark.usefixtures("local_site")  # the local test server is on FETCH_ALLOWLIST


def _job(url: str, select=("main",), render="http", sweep="s1", platform="anthropic", **extra) -> dict:
    return {
        "platform": platform,
        "type": "Privacy Policy",
        "render": render,
        "pages": [{"url": url, "select": list(select), "remove": []}],
        "sweep": sweep,
        **extra,
    }


def _serve(httpserver, page: bytes, path="/legal/privacy", status=200, headers=None, content_type="text/html"):
    httpserver.clear()
    httpserver.expect_request(path).respond_with_response(
        Response(page, status=status, headers={"Content-Type": f"{content_type}; charset=utf-8", **(headers or {})})
    )
    return httpserver.url_for(path)


def _state(key="anthropic/privacy-policy"):
    return (
        boto3.resource("dynamodb", region_name=REGION)
        .Table("documents")
        .get_item(Key={"document_key": key})
        .get("Item")
    )


def _fetch(context, *jobs, **event):
    return fetch_handler.handler(sqs_event(*jobs, **event), context)


OK = {"batchItemFailures": []}


def test_a_version_is_archived_only_when_the_text_changes(stack, context, httpserver):
    url = _serve(httpserver, corpus_page(CLAUDE_28))
    assert _fetch(context, _job(url)) == OK
    versions = stack.keys("versions/")
    assert len(versions) == 1 and versions[0].startswith("versions/anthropic/privacy-policy/")
    meta = stack.s3.head_object(Bucket=stack.bucket, Key=versions[0])["Metadata"]
    assert meta["source-url"] == url and meta["http-status"] == "200" and meta["extractor-version"]
    assert len(meta["sha256"]) == 64 and meta["snapshot-key"] == stack.keys("snapshots/")[0]
    snapshot = stack.s3.head_object(Bucket=stack.bucket, Key=stack.keys("snapshots/")[0])["Metadata"]
    assert snapshot["fetched-at"] == meta["fetched-at"] and len(snapshot["sha256"]) == 64

    _fetch(context, _job(url))  # same page again
    assert len(stack.keys("versions/")) == 1 and len(stack.keys("snapshots/")) == 1

    _serve(httpserver, corpus_page(CLAUDE_29))
    _fetch(context, _job(url))
    assert len(stack.keys("versions/")) == 2
    state = _state()
    assert state["consecutive_failures"] == 0 and state["last_version_key"] == stack.keys("versions/")[-1]
    assert len(state["recent_fingerprints"]) == 2
    text = stack.s3.get_object(Bucket=stack.bucket, Key=stack.keys("versions/")[-1])["Body"].read().decode()
    assert "We may use your Inputs and Outputs to train our models" in text


def test_markup_and_link_token_changes_keep_the_snapshot_but_make_no_version(stack, context, httpserver):
    page = corpus_page(CLAUDE_29)
    assert b"claude.ai/redirect/website.v1." in page
    url = _serve(httpserver, page)
    _fetch(context, _job(url))
    _serve(httpserver, page.replace(b"<main", b'<main data-build="2"', 1))
    _fetch(context, _job(url))
    # Claude.ai's links carry a fresh token on every fetch: the archive keeps the new one...
    rotated = re.sub(rb"website\.v1\.[0-9a-f-]{36}", b"website.v1.0f0e0d0c-1111-4222-8333-444455556666", page)
    assert rotated != page
    _serve(httpserver, rotated)
    _fetch(context, _job(url))
    assert len(stack.keys("snapshots/")) == 3
    assert len(stack.keys("versions/")) == 1  # ...but it is not a new version


def test_not_modified_transfers_nothing_and_writes_nothing(stack, context, httpserver):
    url = _serve(httpserver, corpus_page(CLAUDE_28), headers={"ETag": '"v1"'})
    _fetch(context, _job(url))
    httpserver.clear()
    httpserver.expect_request("/legal/privacy", headers={"If-None-Match": '"v1"'}).respond_with_response(
        Response(b"", status=304)
    )
    _fetch(context, _job(url))
    assert len(stack.keys("snapshots/")) == 1 and len(stack.keys("versions/")) == 1
    assert _state()["consecutive_failures"] == 0


def test_a_changed_declaration_is_fetched_again_in_full(stack, context, httpserver):
    url = _serve(httpserver, corpus_page(CLAUDE_28), headers={"ETag": '"v1"'})
    _fetch(context, _job(url))
    declared = _state()["declaration"]
    _serve(httpserver, corpus_page(CLAUDE_28), headers={"ETag": '"v1"'})
    _fetch(context, _job(url, select=["main article"]))  # the operator changed the selector
    assert "If-None-Match" not in httpserver.log[-1][0].headers
    assert _state()["declaration"] != declared


def test_broken_selector_is_a_failure_never_an_empty_version_and_the_page_is_kept(stack, context, httpserver):
    url = _serve(httpserver, corpus_page("le-chat/privacy-policy/2026-08-21.html"))
    assert _fetch(context, _job(url, select=["#privacy-policy"])) == OK
    assert stack.keys("versions/") == []
    assert len(stack.keys("snapshots/")) == 1  # so `policywatch reextract` can rebuild it after a fix
    state = _state()
    assert state["consecutive_failures"] == 1
    assert "selector-matched-nothing" in state["last_error"]


CHALLENGE = b"""<html><head><title>Just a moment...</title></head><body>
<div id="challenge"><noscript>Enable JavaScript and cookies to continue</noscript></div>
<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1"></script></body></html>"""
NOT_FOUND = b"""<html><head><title>Page not found | Anthropic</title></head><body><main>
<h1>Not found</h1><p>The page you are looking for does not exist.</p></main></body></html>"""
PRODUCT = (
    b"<html><head><title>Claude</title></head><body><main><h1>Meet Claude</h1>"
    + b"<p>Claude writes, codes and thinks with you. Try it free today on web, desktop and mobile.</p>" * 20
    + b"</main></body></html>"
)


@pytest.mark.parametrize(
    ("page", "kind"), [(CHALLENGE, "bot-wall"), (NOT_FOUND, "error-page"), (PRODUCT, "not-a-policy")]
)
def test_error_pages_bot_walls_and_non_policies_served_with_200_are_failures(stack, context, httpserver, page, kind):
    url = _serve(httpserver, page)
    assert _fetch(context, _job(url)) == OK
    assert stack.keys("versions/") == []
    assert f" {kind}: " in _state()["last_error"]


def test_a_page_that_collapses_is_not_a_version(stack, context, httpserver):
    url = _serve(httpserver, corpus_page(CLAUDE_28))
    _fetch(context, _job(url))
    page = corpus_page(CLAUDE_28)
    start, end = page.index(b"<main"), page.index(b"</main>")
    stub = page[:start] + b"<main><h1>Privacy Policy</h1>" + page[start + 6000 : start + 9000] + page[end:]
    _serve(httpserver, stub)
    _fetch(context, _job(url))
    assert len(stack.keys("versions/")) == 1
    assert " text-collapsed: " in _state()["last_error"]


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_are_retried_through_the_queue_with_backoff(stack, context, httpserver, status):
    url = _serve(httpserver, b"oops", status=status)
    assert _fetch(context, _job(url)) == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert f"HTTP {status}" in _state()["last_error"]
    assert stack.keys() == []


def test_retry_after_defers_the_job_on_the_queue(stack, context, httpserver):
    url = _serve(httpserver, b"slow down", status=429, headers={"Retry-After": "3600"})
    sqs = stack.sqs
    sqs.send_message(
        QueueUrl=stack.fetch_queue_url,
        MessageBody=json.dumps(_job(url)),
        MessageGroupId="h#0",
        MessageDeduplicationId="d1",
    )
    message = sqs.receive_message(QueueUrl=stack.fetch_queue_url, AttributeNames=["All"])["Messages"][0]
    event = {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message["Attributes"],
            }
        ]
    }
    assert fetch_handler.handler(event, context) == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    assert len(httpserver.log) == 1  # no retry inside the invocation: the server asked for an hour
    queue = sqs.get_queue_attributes(QueueUrl=stack.fetch_queue_url, AttributeNames=["All"])["Attributes"]
    assert queue["ApproximateNumberOfMessagesNotVisible"] == "1"


def test_backoff_grows_exponentially_and_honours_retry_after():
    assert [backoff_seconds(n, None) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff_seconds(1, 3600) == 3600
    assert backoff_seconds(20, None) == 6 * 3600  # capped at a sweep's period


def test_client_errors_huge_pages_and_wrong_types_fail_without_retry(stack, context, httpserver, monkeypatch):
    url = _serve(httpserver, b"gone", status=404)
    assert _fetch(context, _job(url)) == OK
    assert "HTTP 404" in _state()["last_error"]

    monkeypatch.setenv("MAX_PAGE_BYTES", "100000")
    url = _serve(httpserver, corpus_page(CLAUDE_28))
    _fetch(context, _job(url, sweep="s2"))
    assert "100000-byte limit" in _state()["last_error"]

    httpserver.clear()
    httpserver.expect_request("/doc.zip").respond_with_data(b"PK\x03\x04", content_type="application/zip")
    _fetch(context, _job(httpserver.url_for("/doc.zip"), sweep="s3"))
    assert "unsupported content type 'application/zip'" in _state()["last_error"]
    assert stack.keys() == []


def test_a_pdf_policy_is_archived_as_text(stack, context, httpserver):
    lines = [
        "Privacy Policy",
        "",
        *[f"Section {n}. We collect personal data you provide and use it" for n in range(30)],
    ]
    lines += ["to provide the services. You have rights under applicable law; contact us to exercise them."]
    body = pdf(lines)
    url = _serve(httpserver, body, path="/privacy.pdf", content_type="application/pdf")
    assert _fetch(context, _job(url)) == OK
    assert stack.keys("snapshots/")[0].endswith(".pdf")
    text = stack.s3.get_object(Bucket=stack.bucket, Key=stack.keys("versions/")[0])["Body"].read().decode()
    assert "Section 29. We collect personal data" in text


def test_a_document_of_several_pages_is_their_text_in_order(stack, context, httpserver):
    page = corpus_page(CLAUDE_28)
    httpserver.expect_request("/one").respond_with_data(page, content_type="text/html")
    httpserver.expect_request("/two").respond_with_data(corpus_page(CLAUDE_29), content_type="text/html")
    job = _job(httpserver.url_for("/one"))
    job["pages"].append({"url": httpserver.url_for("/two"), "select": ["main h1"], "remove": []})
    assert _fetch(context, job) == OK
    text = stack.s3.get_object(Bucket=stack.bucket, Key=stack.keys("versions/")[0])["Body"].read().decode()
    assert text.rstrip().endswith("# Privacy Policy") and text.startswith("# Privacy Policy")
    assert len(stack.keys("snapshots/")) == 2


def test_redirects_are_followed_and_recorded(stack, context, httpserver):
    httpserver.expect_request("/old").respond_with_response(Response(status=301, headers={"Location": "/new"}))
    httpserver.expect_request("/new").respond_with_data(corpus_page(CLAUDE_28), content_type="text/html")
    _fetch(context, _job(httpserver.url_for("/old")))
    meta = stack.s3.head_object(Bucket=stack.bucket, Key=stack.keys("versions/")[0])["Metadata"]
    assert meta["source-url"] == httpserver.url_for("/new")
    assert meta["requested-url"] == httpserver.url_for("/old")
    assert _state()["last_redirects"] == [f"301 {httpserver.url_for('/new')}"]


def _collapsed(page: bytes) -> bytes:
    start, end = page.index(b"<main"), page.index(b"</main>")
    return page[:start] + b"<main><h1>Privacy Policy</h1>" + page[start + 6000 : start + 9000] + page[end:]


def test_a_collapse_that_persists_for_three_sweeps_becomes_the_new_size_with_one_notice(stack, context, httpserver):
    """Issue 13: a policy that became a shorter page was refused as collapsed for months."""
    url = _serve(httpserver, corpus_page(CLAUDE_28))
    _fetch(context, _job(url, sweep="s0"))
    _serve(httpserver, _collapsed(corpus_page(CLAUDE_28)))
    for sweep in ("s1", "s1", "s2"):  # a retried job of one sweep counts once
        _fetch(context, _job(url, sweep=sweep))
    assert len(stack.keys("versions/")) == 1 and _state()["collapsed_fetches"] == 2
    _fetch(context, _job(url, sweep="s3"))
    assert len(stack.keys("versions/")) == 2  # the third sweep in a row: the new size
    state = _state()
    assert state["collapsed_fetches"] == 0 and state["consecutive_failures"] == 0
    assert [a["event"] for a in stack.operator_alerts()] == ["rebaselined"]
    _fetch(context, _job(url, sweep="s4"))  # the shorter page is now simply the document
    assert len(stack.keys("versions/")) == 2 and stack.operator_alerts() == []


def test_the_operator_accepts_a_collapse_at_once(stack, context, httpserver):
    url = _serve(httpserver, corpus_page(CLAUDE_28))
    _fetch(context, _job(url, sweep="s0"))
    _serve(httpserver, _collapsed(corpus_page(CLAUDE_28)))
    _fetch(context, _job(url, sweep="s1"))
    table = boto3.resource("dynamodb", region_name=REGION).Table("documents")
    table.update_item(  # what `policywatch accept anthropic/privacy-policy` writes
        Key={"document_key": "anthropic/privacy-policy"},
        UpdateExpression="SET accept_next = :yes",
        ExpressionAttributeValues={":yes": True},
    )
    _fetch(context, _job(url, sweep="s2"))
    assert len(stack.keys("versions/")) == 2 and not _state()["accept_next"]
    assert [a["event"] for a in stack.operator_alerts()] == ["rebaselined"]


def test_failures_count_once_per_sweep_and_alert_the_operator_once(stack, context, httpserver):
    url = _serve(httpserver, b"gone", status=404)
    for sweep in ("s1", "s1", "s2"):  # a retried job of sweep s1 is still one failed sweep
        _fetch(context, _job(url, sweep=sweep))
    assert _state()["consecutive_failures"] == 2 and stack.operator_alerts() == []
    for sweep in ("s3", "s4", "s5"):
        _fetch(context, _job(url, sweep=sweep))
    alerts = stack.operator_alerts()
    assert [a["event"] for a in alerts] == ["failing"]  # one alert, not one per sweep
    assert "anthropic/privacy-policy" in alerts[0]["subject"] and "HTTP 404" in alerts[0]["message"]

    _serve(httpserver, corpus_page(CLAUDE_28))
    _fetch(context, _job(url, sweep="s6"))
    _fetch(context, _job(url, sweep="s7"))
    assert [a["event"] for a in stack.operator_alerts()] == ["recovered"]
    assert _state()["consecutive_failures"] == 0 and not _state()["alerted"]


def test_script_rendered_documents_are_reported_as_needing_a_browser_without_alerts(stack, context, httpserver):
    for sweep in ("s1", "s2", "s3", "s4"):
        _fetch(context, _job(httpserver.url_for("/x"), render="browser", sweep=sweep))
    assert "needs-browser" in _state()["last_error"]
    assert len(httpserver.log) == 0 and stack.keys() == []
    assert stack.operator_alerts() == []


def test_one_bad_job_does_not_fail_the_batch_but_holds_back_its_group(stack, context, httpserver):
    httpserver.expect_request("/ok").respond_with_data(corpus_page(CLAUDE_28), content_type="text/html")
    httpserver.expect_request("/down").respond_with_data(b"", status=502)
    ok = _job(httpserver.url_for("/ok"))
    down = _job(httpserver.url_for("/down"), platform="openai")
    later = _job(httpserver.url_for("/ok"), platform="google")
    event = sqs_event(ok, down, later)
    event["Records"][1]["attributes"]["MessageGroupId"] = event["Records"][2]["attributes"]["MessageGroupId"] = "h#1"
    result = fetch_handler.handler(event, context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}
    assert [k.split("/")[1] for k in stack.keys("versions/")] == ["anthropic"]


def test_a_malformed_job_fails_clearly_and_writes_nothing(stack, context, caplog):
    result = _fetch(context, {"platform": "anthropic", "type": "Privacy Policy"})
    assert result == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert stack.keys() == []


def test_sweep_enqueues_every_packaged_document_in_host_groups(stack, context):
    result = sweep_handler.handler({}, context)
    assert result["documents"] >= 35
    messages = []
    while batch := stack.sqs.receive_message(
        QueueUrl=stack.fetch_queue_url, MaxNumberOfMessages=10, AttributeNames=["MessageGroupId"]
    ).get("Messages"):
        messages += batch
        for m in batch:
            stack.sqs.delete_message(QueueUrl=stack.fetch_queue_url, ReceiptHandle=m["ReceiptHandle"])
    assert len(messages) == result["documents"]
    groups = {m["Attributes"]["MessageGroupId"] for m in messages}
    hosts = {g.split("#")[0] for g in groups}
    assert "www.anthropic.com" in hosts
    assert all(int(g.split("#")[1]) < 2 for g in groups)  # HOST_CONCURRENCY defaults to 2
    assert {json.loads(m["Body"])["sweep"] for m in messages} == {context.aws_request_id}


def test_a_repeated_sweep_invocation_enqueues_each_document_once(stack, context):
    first = sweep_handler.handler({}, context)["documents"]
    sweep_handler.handler({}, context)  # the same invocation retried: same request id
    attributes = stack.sqs.get_queue_attributes(
        QueueUrl=stack.fetch_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert int(attributes["Attributes"]["ApproximateNumberOfMessages"]) == first


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


# ---------------------------------------------------------------- documents a browser renders (issue 14)


def _render(context, *jobs):
    from functions.fetch import render_handler

    return render_handler.handler(sqs_event(*jobs), context)


@pytest.fixture
def browser(monkeypatch):
    from functions.fetch import render_handler
    from tests.helpers.browser import chromium_path

    monkeypatch.setenv("CHROMIUM_PATH", chromium_path())
    monkeypatch.setenv("RENDER_PAGE_SECONDS", "8")
    monkeypatch.setenv("RENDER_SETTLE_SECONDS", "0.3")
    yield
    if render_handler._renderer is not None:
        render_handler._renderer.close()
        render_handler._renderer = None


def _scripted_policy(version: str) -> bytes:
    """The Claude.ai privacy policy of that day, built in the page by a script (as the demo site serves it)."""
    return demo_site.scripted(corpus_page(version), "app")


def test_a_script_built_policy_is_rendered_archived_and_marked_as_rendered(stack, context, httpserver, browser):
    url = _serve(httpserver, _scripted_policy(CLAUDE_28))
    assert _render(context, _job(url, render="browser")) == OK
    versions, snapshots = stack.keys("versions/"), stack.keys("snapshots/")
    assert len(versions) == 1 and len(snapshots) == 1
    snapshot = stack.s3.get_object(Bucket=stack.bucket, Key=snapshots[0])
    assert snapshot["Metadata"]["rendered"] == "chromium" and snapshot["ContentType"].startswith("text/html")
    assert b"Loading" not in snapshot["Body"].read()  # the DOM after the script, not the bytes served
    text = stack.s3.get_object(Bucket=stack.bucket, Key=versions[0])["Body"].read().decode()
    assert "We will not use your Inputs or Outputs to train our models" in text

    _render(context, _job(url, render="browser"))  # the same render again: nothing new
    assert len(stack.keys("versions/")) == 1
    _serve(httpserver, _scripted_policy(CLAUDE_29))
    _render(context, _job(url, render="browser"))
    assert len(stack.keys("versions/")) == 2


def test_a_rendered_page_that_never_settles_is_a_recorded_failure_and_no_version(stack, context, httpserver, browser):
    url = _serve(
        httpserver, b"<html><body><div id=app>Loading</div><script>setInterval(()=>{}, 50)</script></body></html>"
    )
    assert _render(context, _job(url, render="browser")) == OK
    assert stack.keys() == []
    assert "the declared selector 'main' did not appear" in _state()["last_error"]


def test_sweep_sends_browser_documents_to_the_render_queue_in_the_same_host_groups(stack, context, monkeypatch):
    render_queue = stack.sqs.create_queue(QueueName="render.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    monkeypatch.setenv("RENDER_QUEUE_URL", render_queue)
    total = sweep_handler.handler({}, context)["documents"]

    def drain(queue_url: str) -> list[dict]:
        found = []
        while batch := stack.sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["MessageGroupId"]
        ).get("Messages"):
            found += batch
            for m in batch:
                stack.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
        return found

    rendered, fetched = drain(render_queue), drain(stack.fetch_queue_url)
    assert rendered and fetched and len(rendered) + len(fetched) == total
    assert {json.loads(m["Body"])["render"] for m in rendered} == {"browser"}
    assert {json.loads(m["Body"])["render"] for m in fetched} == {"http"}
    assert all(int(m["Attributes"]["MessageGroupId"].split("#")[1]) < 2 for m in rendered + fetched)


def test_a_captcha_no_browser_passes_is_a_bot_wall_told_once_per_streak(stack, context, httpserver, browser):
    captcha = (
        b"<html><head><title>Just a moment...</title></head><body><main><p>Verify you are human by completing "
        b"the action below.</p><div class=g-recaptcha></div></main></body></html>"
    )
    url = _serve(httpserver, captcha)
    for sweep in ("s1", "s2", "s3", "s4", "s5"):
        _render(context, _job(url, render="browser", sweep=sweep))
    assert stack.keys("versions/") == []  # never a version: the wall is kept once, as a snapshot (evidence)
    assert len(stack.keys("snapshots/")) == 1
    state = _state()
    assert " bot-wall: " in state["last_error"] and state["consecutive_failures"] == 5
    assert [a["event"] for a in stack.operator_alerts()] == ["failing"]  # once, on the third sweep in a row


def test_a_version_archived_by_a_fetch_that_died_before_its_state_is_adopted_not_written_twice(
    stack, context, httpserver
):
    url = _serve(httpserver, corpus_page(CLAUDE_28))
    _fetch(context, _job(url))
    _serve(httpserver, corpus_page(CLAUDE_29))
    faults = Faults()
    faults.fail("dynamodb", "PutItem", when=lambda params: params.get("TableName") == "documents", times=3)
    _fetch(context, _job(url))  # the new version is archived, then the document's state cannot be saved
    assert len(stack.keys("versions/")) == 2 and _state()["last_version_key"] == stack.keys("versions/")[0]

    _fetch(context, _job(url))  # the job again (SQS brings it back), the same text
    versions = stack.keys("versions/")
    assert len(versions) == 2  # adopted: the archive holds the text once
    assert _state()["last_version_key"] == versions[-1] and len(stack.keys("manifests/")) == 2
