"""`policywatch reextract`: versions rebuilt from stored snapshots are technical changes.

Pages: Open Terms Archive GenAI collection, ODC-By 1.0 (../shared/corpus).
"""

import json

import pytest
from werkzeug import Response

from functions.diff import diff_handler
from functions.fetch import fetch_handler
from policywatch.catalog import Document
from policywatch.fetch.reextract import reextract
from policywatch.fetch.settings import ArchivistSettings, FetchSettings
from policywatch.storage.archive import Archive
from policywatch.storage.documents import DocumentStates
from tests.helpers.corpus import corpus_page
from tests.helpers.events import s3_event, sqs_event

PAGE = corpus_page("claude-ai/privacy-policy/2025-08-29.html")
pytestmark = pytest.mark.usefixtures("local_site")  # the local test server is on FETCH_ALLOWLIST


def _document(url: str, select: list[str]) -> Document:
    return Document.from_job(
        json.dumps(
            {
                "platform": "anthropic",
                "type": "Privacy Policy",
                "pages": [{"url": url, "select": select, "remove": []}],
            }
        )
    )


def _run(document, **kwargs):
    return reextract(
        document, archive=Archive(FetchSettings.from_env().archive_bucket), states=DocumentStates("documents"), **kwargs
    )


def test_a_fixed_selector_rebuilds_the_version_from_the_kept_snapshot_and_it_never_alerts(stack, context, httpserver):
    httpserver.expect_request("/privacy").respond_with_response(Response(PAGE, content_type="text/html"))
    url = httpserver.url_for("/privacy")
    # Archived once with a selector that takes the paragraphs only (no headings, no lists)...
    fetch_handler.handler(sqs_event({**_document(url, ["main p"]).to_dict(), "sweep": "s1"}), context)
    first = stack.keys("versions/")
    assert len(first) == 1
    # ...then the site changed its layout and the declared selector broke: the snapshot is kept.
    broken = _document(url, ["#policy-body"])
    fetch_handler.handler(sqs_event({**broken.to_dict(), "sweep": "s2"}), context)
    assert stack.keys("versions/") == first
    httpserver.clear()  # reextract reads the archive, never the site

    fixed = _document(url, ["main"])
    result = _run(fixed, settings=ArchivistSettings.from_env())
    assert result.status == "rebuilt", result
    version = stack.keys("versions/")[-1]
    assert version == result.version_key and len(stack.keys("versions/")) == 2
    meta = stack.s3.head_object(Bucket=stack.bucket, Key=version)["Metadata"]
    assert meta["origin"] == "reextract" and meta["snapshot-key"].startswith("snapshots/anthropic/privacy-policy/")

    diff_handler.handler(s3_event(stack.bucket, version), context)
    record = json.loads(stack.s3.get_object(Bucket=stack.bucket, Key=stack.keys("changes/")[0])["Body"].read())
    assert record["kind"] == "technical" and record["alert"] is False
    assert stack.published_changes() == []  # recorded, never published

    assert _run(fixed, settings=ArchivistSettings.from_env()).status == "unchanged"  # running it again changes nothing
    assert len(httpserver.log) == 0


def test_nothing_to_rebuild_without_a_snapshot_and_a_still_broken_selector_fails_clearly(stack, context, httpserver):
    document = _document("https://example.invalid/p", ["main"])
    assert _run(document, settings=ArchivistSettings.from_env()).status == "no-snapshot"

    httpserver.expect_request("/privacy").respond_with_response(Response(PAGE, content_type="text/html"))
    url = httpserver.url_for("/privacy")
    fetch_handler.handler(sqs_event({**_document(url, ["main"]).to_dict(), "sweep": "s1"}), context)
    result = _run(_document(url, ["#still-wrong"]), settings=ArchivistSettings.from_env())
    assert result.status == "failed" and "selector-matched-nothing" in result.detail
    assert len(stack.keys("versions/")) == 1


def test_after_a_declaration_change_the_sweep_rebuilds_the_previous_version_first(stack, context, httpserver):
    """A new selector (or extractor) must not make today's diff show our change as the site's."""
    before = corpus_page("claude-ai/privacy-policy/2025-08-28.html")
    httpserver.expect_request("/privacy").respond_with_response(Response(before, content_type="text/html"))
    url = httpserver.url_for("/privacy")
    fetch_handler.handler(sqs_event({**_document(url, ["main p"]).to_dict(), "sweep": "s1"}), context)

    # The operator widens the selector to headings and lists, and the same day the site changes.
    httpserver.clear()
    httpserver.expect_request("/privacy").respond_with_response(Response(PAGE, content_type="text/html"))
    fetch_handler.handler(sqs_event({**_document(url, ["main"]).to_dict(), "sweep": "s2"}), context)
    first, rebuilt, today = stack.keys("versions/")
    rebuilt_meta = stack.s3.head_object(Bucket=stack.bucket, Key=rebuilt)["Metadata"]
    assert rebuilt_meta["origin"] == "reextract"  # the 2025-08-28 page, extracted the new way

    for key in (rebuilt, today):
        diff_handler.handler(s3_event(stack.bucket, key), context)
    records = [
        json.loads(stack.s3.get_object(Bucket=stack.bucket, Key=k)["Body"].read()) for k in stack.keys("changes/")
    ]
    assert [r["kind"] for r in records] == ["technical", "substantive"]
    published = stack.published_changes()
    assert len(published) == 1
    changed = json.dumps(published[0]["body"]["blocks"])
    assert "We may use your Inputs and Outputs to train our models" in changed
    assert first < rebuilt < today
