"""Re-dating flags on the site: the change page, the JSON API and the Atom feed (issue 17, item 5).

Real changes, diffed into moto by the pipeline's own code (Open Terms Archive GenAI collection,
ODC-By 1.0): ChatGPT's privacy policy gaining a section on training under the same "Updated"
date, Midjourney's terms moving their "Version Effective Date" and nothing else, and Claude's
training change, whose "Effective" date moved with its text (no flag).
"""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from bs4 import BeautifulSoup
from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from functions.web import web_handler
from policywatch.web import api
from tests.helpers.aws import BUCKET, REGION
from tests.helpers.paths import EVENTS
from tests.helpers.site import CHATGPT, CLAUDE, MIDJOURNEY, load_history, site_stack

BASE = "https://policywatch.test"
SAMPLE = json.loads((EVENTS / "web.json").read_text())
ATOM = "{http://www.w3.org/2005/Atom}"
UNCHANGED = "/openai/privacy-policy/2025-07-31T120659.000Z"  # a section added, "Updated: November 4, 2024" kept
DATE_ONLY = "/midjourney/terms-of-service/2026-05-18T070723.000Z"  # "Version Effective Date" moved, nothing else
REDATED = "/anthropic/privacy-policy/2025-08-29T003202.000Z"  # Claude's training change, a new "Effective" date


@pytest.fixture(scope="module")
def histories() -> Iterator[None]:
    """The three changes, each from the version before it."""
    with site_stack(BASE) as topic:
        load_history(CHATGPT, topic, first=12, last=13)
        load_history(MIDJOURNEY, topic, first=19, last=20)
        load_history(CLAUDE, topic, first=2, last=3)
        yield


def call(path: str, context, query: dict[str, str] | None = None) -> dict:
    event = copy.deepcopy(SAMPLE)
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = "GET"
    event["queryStringParameters"] = query
    event["rawQueryString"] = urlencode(query or {})
    event["headers"] = {"host": "policywatch.test"}
    event["body"] = ""
    response = web_handler.handler(event, context)
    assert response["statusCode"] == 200, (path, response["body"][:300])
    return response


def stated(path: str, context) -> str | None:
    """What the change page says under "Stated date", or None when it has no such row."""
    soup = BeautifulSoup(call("/changes" + path, context)["body"], "html.parser")
    row = next((dt for dt in soup.select("dl.facts dt") if dt.get_text() == "Stated date"), None)
    return None if row is None else " ".join(row.find_next_sibling("dd").get_text(" ").split())


def api_json(path: str, context, schema: str, query: dict[str, str] | None = None) -> Any:
    body = json.loads(call(path, context, query)["body"])
    registry = Registry().with_resource("urn:openapi", Resource.from_contents(api.openapi_document(), DRAFT202012))
    OAS31Validator({"$ref": f"urn:openapi#/components/schemas/{schema}"}, registry=registry).validate(body)
    return body


def test_the_change_page_says_the_text_changed_under_the_same_date(histories, context):
    assert stated(UNCHANGED, context) == "The text changed but its \u201cUpdated\u201d date still says 4 November 2024."
    soup = BeautifulSoup(call("/changes" + UNCHANGED, context)["body"], "html.parser")
    assert soup.select_one("dl.facts strong.dating-flag") is not None  # a flag stands out; a plain fact does not


def test_the_change_page_says_only_the_date_moved(histories, context):
    assert stated(DATE_ONLY, context) == (
        "Only the \u201cVersion Effective Date\u201d moved, from 23 June 2025 to 12 February 2026; "
        "no other words changed."
    )


def test_a_change_re_dated_as_it_should_be_states_the_move_unflagged(histories, context):
    assert stated(REDATED, context) == "Its \u201cEffective\u201d date moved from 1 May 2025 to 28 September 2025."
    soup = BeautifulSoup(call("/changes" + REDATED, context)["body"], "html.parser")
    assert soup.select_one("strong.dating-flag") is None


def test_the_api_change_carries_the_dating_as_the_record_has_it(histories, context):
    change = api_json("/api/v1/changes" + UNCHANGED, context, "ChangeRecord")
    assert change["dating"] == {
        "flag": "unchanged-date",
        "label": "Updated",
        "before": "2024-11-04",
        "after": "2024-11-04",
    }
    change = api_json("/api/v1/changes" + DATE_ONLY, context, "ChangeRecord")
    assert change["dating"] == {
        "flag": "date-only",
        "label": "Version Effective Date",
        "before": "2025-06-23",
        "after": "2026-02-12",
    }


def test_lists_carry_it_too(histories, context):
    """/changes lists alerting changes (the unchanged date); a document lists all of its changes."""
    listed = api_json("/api/v1/changes", context, "ChangePage", {"platform": "openai"})
    [item] = [i for i in listed["items"] if i["stamp"] == UNCHANGED.rsplit("/", 1)[1]]
    assert item["dating"]["flag"] == "unchanged-date"
    document = json.loads(call("/api/v1/documents/midjourney/terms-of-service", context)["body"])
    [change] = document["changes"]
    assert change["kind"] == "date-only" and change["dating"]["flag"] == "date-only"


def test_the_feed_entry_says_the_text_changed_under_the_same_date(histories, context):
    root = ET.fromstring(call("/feeds/documents/openai/privacy-policy.atom", context)["body"].encode())
    [entry] = root.findall(f"{ATOM}entry")
    content = BeautifulSoup(entry.findtext(f"{ATOM}content") or "", "html.parser").get_text(" ")
    assert "The text changed but its \u201cUpdated\u201d date still says 4 November 2024." in content
    root = ET.fromstring(call("/feeds/documents/anthropic/privacy-policy.atom", context)["body"].encode())
    assert "date still says" not in (root.find(f"{ATOM}entry/{ATOM}content").text or "")  # type: ignore[union-attr]


def test_a_record_written_before_the_field_shows_no_stated_date_and_still_conforms(histories, context):
    s3 = boto3.client("s3", region_name=REGION)
    key = "changes" + REDATED + ".json"
    record = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    try:
        old = {name: value for name, value in record.items() if name != "dating"}
        s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(old).encode())
        assert stated(REDATED, context) is None
        assert "dating" not in api_json("/api/v1/changes" + REDATED, context, "ChangeRecord")
    finally:
        s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(record).encode())
