"""The JSON API through the web function, on real histories diffed into moto by the pipeline's code.

Every answer a test receives is checked against the response schema ``openapi.json`` gives for
its route and status, so the document cannot drift from what the API sends.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from openapi_schema_validator import OAS31Validator, oas31_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from functions.web import web_handler
from policywatch.core.events import validate as validate_change_record
from policywatch.web import api
from policywatch.web.pages import API_CACHE, PRIVATE
from tests.helpers.paths import EVENTS
from tests.helpers.site import CHATGPT, CLAUDE, MIDJOURNEY, load_history, site_stack

BASE = "https://policywatch.test"
SAMPLE = json.loads((EVENTS / "web.json").read_text())
RANK = {"low": 0, "medium": 1, "high": 2}
CLAUDE_CHANGE = "2025-08-29T003202.000Z"  # Claude's training change: the only alerting one of its first six versions


@pytest.fixture(scope="module")
def histories() -> Iterator[None]:
    """One moto stack for the module, with real histories loaded once (loading is the slow part):
    Claude's first 6 versions, ChatGPT's 20 and Midjourney's first 5."""
    with site_stack(BASE) as topic:
        load_history(CLAUDE, topic, last=6)
        load_history(CHATGPT, topic)
        load_history(MIDJOURNEY, topic, last=5)
        yield


# -- calling the function, and checking every answer against the OpenAPI document --


def call(path: str, context, query: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> dict:
    """The web function's raw answer to a GET."""
    event = copy.deepcopy(SAMPLE)
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = "GET"
    event["queryStringParameters"] = query
    event["rawQueryString"] = urlencode(query or {})
    event["headers"] = {"host": "policywatch.test", **(headers or {})}
    event["body"] = ""
    return web_handler.handler(event, context)


def get(path: str, context, query: dict[str, str] | None = None, status: int = 200) -> tuple[Any, dict[str, str]]:
    """The JSON body and headers of a GET, after checking them against the route's documented answer."""
    response = call(path, context, query)
    assert response["statusCode"] == status, response["body"][:300]
    assert response["headers"]["Content-Type"] == "application/json"
    body = json.loads(response["body"])
    conforms(path, status, body, response["headers"])
    return body, response["headers"]


def follow(url: str, context) -> tuple[Any, dict[str, str]]:
    """GET an absolute URL the API gave."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == BASE
    return get(parts.path, context, dict(parse_qsl(parts.query)))


@cache
def _registry() -> Registry:
    return Registry().with_resource("urn:openapi", Resource.from_contents(api.openapi_document(), DRAFT202012))


def conforms(path: str, status: int, body: Any, headers: dict[str, str]) -> None:
    """``body`` is what openapi.json says the route answers with ``status``; a 200 carries the documented headers."""
    document = api.openapi_document()
    relative = path.removeprefix(api.PREFIX) or "/"
    templates = [t for t in document["paths"] if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", t), relative)]
    if not templates:  # a path the API does not have: the error object
        assert status == 404
        answer: dict[str, Any] = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    else:
        [template] = templates
        answer = document["paths"][template]["get"]["responses"][str(status)]
        if "$ref" in answer:
            answer = document["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    schema = answer["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = {"$ref": "urn:openapi" + schema["$ref"]}
    OAS31Validator(schema, registry=_registry(), format_checker=oas31_format_checker).validate(body)
    documented = {name.lower() for name in answer.get("headers", {})}
    sent = {name.lower() for name in headers}
    assert documented - {"link", "retry-after"} <= sent, documented - sent


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["links"]["api"] for item in items]


def every_page(path: str, context, query: dict[str, str]) -> tuple[list[dict[str, Any]], int]:
    """Every item of a paginated list, following ``next``; and how many pages it took. Every page
    but the last is full, and each next link keeps the filters and the limit."""
    body, headers = get(path, context, query)
    items, pages = body["items"], 1
    while body["next"]:
        assert len(body["items"]) == int(query["limit"])
        assert headers["Link"] == f'<{body["next"]}>; rel="next"'
        assert all(urlencode({key: value}) in body["next"] for key, value in query.items())
        body, headers = follow(body["next"], context)
        items, pages = items + body["items"], pages + 1
    assert len(body["items"]) <= int(query["limit"]) and "Link" not in headers
    return items, pages


# -- the routes --


def test_the_index_and_the_openapi_document_it_links_to(histories, context):
    index, _ = get("/api/v1/", context)
    assert index["links"]["openapi.json"] == f"{BASE}/api/v1/openapi.json"
    document, _ = follow(index["links"]["openapi.json"], context)
    assert document["openapi"] == "3.1.0" and document["servers"] == [{"url": f"{BASE}/api/v1"}]
    assert set(document["paths"]) == set(api.openapi_document()["paths"])


def test_platforms_list_every_watched_platform_with_its_documents(histories, context):
    platforms, _ = get("/api/v1/platforms", context)
    by_id = {platform["id"]: platform for platform in platforms["items"]}
    assert {"anthropic", "openai", "midjourney"} <= set(by_id)
    anthropic = by_id["anthropic"]
    assert anthropic["name"] == "Anthropic (Claude)"
    assert anthropic["links"] == {
        "html": f"{BASE}/platforms/anthropic",
        "api": f"{BASE}/api/v1/platforms/anthropic",
        "feed": f"{BASE}/feeds/platforms/anthropic.atom",
        "changes": f"{BASE}/api/v1/changes?platform=anthropic",
    }
    privacy = next(doc for doc in anthropic["documents"] if doc["document"] == "privacy-policy")
    assert privacy["links"]["api"] == f"{BASE}/api/v1/documents/anthropic/privacy-policy"
    one, _ = follow(anthropic["links"]["api"], context)
    assert one == anthropic
    missing, headers = get("/api/v1/platforms/nobody", context, status=404)
    assert missing == {"error": "no watched platform has this id"} and headers["Cache-Control"] == PRIVATE


def test_a_document_has_its_latest_version_provisions_and_every_change(histories, context):
    document, _ = get("/api/v1/documents/openai/privacy-policy", context)
    assert document["platform_name"] == "OpenAI (ChatGPT)" and document["document_type"] == "Privacy Policy"
    assert document["version_count"] == 20
    stamps = [change["stamp"] for change in document["changes"]]
    assert len(stamps) == 19 and stamps == sorted(stamps, reverse=True)  # one change per version after the first
    assert all("passages" not in change for change in document["changes"])
    assert document["latest_version"]["stamp"] == stamps[0] == document["provisions"]["stamp"]
    assert document["provisions"]["quotes"]["model-training"][0]["text"]
    change, _ = follow(document["changes"][0]["links"]["api"], context)
    assert change["change_id"] == document["changes"][0]["change_id"]
    for path in ("/api/v1/documents/openai/no-such-document", "/api/v1/documents/nobody/privacy-policy"):
        assert get(path, context, status=404)[0] == {"error": "no such document"}


def test_versions_come_newest_first_through_every_page_without_duplicates_or_gaps(histories, context):
    path = "/api/v1/documents/openai/privacy-policy/versions"
    everything, _ = get(path, context, {"limit": "200"})
    assert len(everything["items"]) == 20 and everything["next"] is None
    paged, pages = every_page(path, context, {"limit": "3"})
    assert pages == 7 and ids(paged) == ids(everything["items"])
    stamps = [version["stamp"] for version in paged]
    assert stamps == sorted(stamps, reverse=True)
    first, latest = paged[-1], paged[0]
    assert first["change"] is None and latest["change"]["change_id"]
    assert latest["links"]["text"] == f"{BASE}/{latest['key']}"
    assert latest["links"]["html"] == f"{BASE}/documents/openai/privacy-policy/versions/{latest['stamp']}"
    assert latest["links"]["change"] == f"{BASE}/api/v1/changes/openai/privacy-policy/{latest['stamp']}"
    one, _ = follow(latest["links"]["api"], context)
    assert one == latest
    assert get(f"{path}/2001-01-01T000000.000Z", context, status=404)[0] == {"error": "no such version"}
    assert get("/api/v1/documents/nobody/privacy-policy/versions", context, status=404)[0]["error"]


def test_changes_are_filtered_by_platform_category_minimum_severity_and_document_type(histories, context):
    every, _ = get("/api/v1/changes", context, {"limit": "200"})
    changes = every["items"]
    assert {change["platform"] for change in changes} == {"anthropic", "openai", "midjourney"}
    assert all(change["alert"] for change in changes)
    assert [c["stamp"] for c in changes] == sorted((c["stamp"] for c in changes), reverse=True)
    cases = {
        "platform": ("openai", lambda c: c["platform"] == "openai"),
        "category": ("model-training", lambda c: "model-training" in c["categories"]),
        "severity": ("medium", lambda c: RANK[c["severity"]] >= RANK["medium"]),
        "type": ("Terms of Service", lambda c: c["document_type"] == "Terms of Service"),
    }
    for name, (value, keeps) in cases.items():
        found, _ = get("/api/v1/changes", context, {name: value})
        expected = [change for change in changes if keeps(change)]
        assert expected and ids(found["items"]) == ids(expected), name
    both, _ = get("/api/v1/changes", context, {"category": "model-training", "severity": "high", "platform": "openai"})
    expected = [
        c
        for c in changes
        if c["platform"] == "openai" and c["severity"] == "high" and "model-training" in c["categories"]
    ]
    assert expected and ids(both["items"]) == ids(expected)


def test_changes_paginate_through_every_page_keeping_the_filters(histories, context):
    for query in ({"limit": "2"}, {"limit": "1", "severity": "medium"}, {"limit": "2", "platform": "midjourney"}):
        paged, pages = every_page("/api/v1/changes", context, query)
        whole, _ = get("/api/v1/changes", context, {**query, "limit": "200"})
        assert ids(paged) == ids(whole["items"]), query
        assert len(set(ids(paged))) == len(paged)
        assert pages > 1


def test_a_change_is_the_whole_record_with_its_evidence(histories, context):
    listed, _ = get("/api/v1/changes", context, {"platform": "anthropic"})
    [summary] = listed["items"]
    assert summary["links"] == {
        "html": f"{BASE}/changes/anthropic/privacy-policy/{CLAUDE_CHANGE}",
        "api": f"{BASE}/api/v1/changes/anthropic/privacy-policy/{CLAUDE_CHANGE}",
        "document": f"{BASE}/api/v1/documents/anthropic/privacy-policy",
    }
    record, _ = follow(summary["links"]["api"], context)
    validate_change_record({key: value for key, value in record.items() if key != "links"})  # the record as archived
    assert record["change_id"] == summary["change_id"] and record["severity"] == "high"
    assert len([b for b in record["blocks"] if b["class"] == "text"]) > len(summary["passages"])
    evidence = record["evidence"]
    assert record["links"]["current_version"] == f"{BASE}/{evidence['current']['key']}"
    assert record["links"]["previous_version"] == f"{BASE}/{evidence['previous']['key']}"
    for path in (
        "/api/v1/changes/anthropic/privacy-policy/2001-01-01T000000.000Z",
        "/api/v1/changes/anthropic/privacy-policy/latest",
        "/api/v1/changes/anthropic/privacy-policy",
    ):
        assert get(path, context, status=404)[0]["error"], path


def test_provisions_compare_what_each_document_says_with_its_latest_change(histories, context):
    categories, _ = get("/api/v1/provisions", context)
    by_id = {category["id"]: category for category in categories["items"]}
    assert by_id["model-training"]["label"] == "Model training on user content"
    comparison, _ = follow(by_id["model-training"]["links"]["api"], context)
    assert comparison["id"] == "model-training" and comparison["links"] == by_id["model-training"]["links"]
    rows = {f"{row['platform']}/{row['document']}": row for row in comparison["items"]}
    claude = rows["anthropic/privacy-policy"]
    assert any("train our models" in quote["text"] for quote in claude["quotes"])
    assert claude["latest_change"]["stamp"] == CLAUDE_CHANGE
    assert claude["links"]["text"] == f"{BASE}/{claude['key']}"
    saying = [bool(row["quotes"]) for row in comparison["items"]]
    assert saying == sorted(saying, reverse=True)  # those that say something first
    assert get("/api/v1/provisions/no-such-category", context, status=404)[0]["error"]


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "201"},
        {"limit": "ten"},
        {"limit": "1.5"},
        {"limit": "-1"},
        {"limit": "٣"},  # a digit, but not an ASCII one
        {"severity": "critical"},
        {"severity": "none"},
        {"platform": "nobody"},
        {"category": "no-such-category"},
        {"type": "Cookbook"},
        {"cursor": "not-a-cursor!"},
        {"cursor": "eyJwayI6ImZlZWQjYWxsIn0"},  # base64 of JSON, but no sort key
        {"cursor": "A" * 5000},
    ],
)
def test_a_bad_filter_limit_or_cursor_is_a_400_with_one_line(histories, context, query):
    body, headers = get("/api/v1/changes", context, query, status=400)
    assert set(body) == {"error"} and body["error"] and "\n" not in body["error"]
    assert headers["Cache-Control"] == PRIVATE


def test_a_cursor_only_continues_the_list_it_came_from(histories, context):
    page, _ = get("/api/v1/changes", context, {"platform": "openai", "limit": "1"})
    cursor = dict(parse_qsl(urlsplit(page["next"]).query))["cursor"]
    wrong, _ = get("/api/v1/changes", context, {"category": "model-training", "cursor": cursor}, status=400)
    assert wrong == {"error": "the cursor belongs to another list"}
    versions = "/api/v1/documents/anthropic/privacy-policy/versions"
    assert get(versions, context, {"cursor": cursor}, status=400)[0] == wrong


def test_answers_carry_an_etag_and_a_matching_if_none_match_gets_a_304(histories, context):
    first = call("/api/v1/changes", context, {"severity": "high"})
    assert first["statusCode"] == 200 and first["headers"]["Cache-Control"] == API_CACHE
    etag = first["headers"]["ETag"]
    again = call("/api/v1/changes", context, {"severity": "high"}, {"if-none-match": etag})
    assert again["statusCode"] == 304 and again["body"] == "" and again["headers"]["ETag"] == etag
    other = call("/api/v1/changes", context, {"severity": "low"}, {"if-none-match": etag})
    assert other["statusCode"] == 200 and other["headers"]["ETag"] != etag


def test_a_path_the_api_does_not_have_is_a_json_404(histories, context):
    for path in ("/api/v1/nothing", "/api/v1/platforms/anthropic/extra", "/api/v1/changes/", "/api/v1/PLATFORMS"):
        body, _ = get(path, context, status=404)
        assert body["error"], path


def test_the_html_links_of_items_lead_to_pages(histories, context):
    platform, _ = get("/api/v1/platforms/openai", context)
    document, _ = follow(platform["documents"][0]["links"]["api"], context)
    comparison, _ = get("/api/v1/provisions/model-training", context)
    for item in (platform, document, document["latest_version"], document["changes"][0], comparison):
        page = call(urlsplit(item["links"]["html"]).path, context)
        assert page["statusCode"] == 200 and page["headers"]["Content-Type"].startswith("text/html"), item["links"]
