"""The public web function against moto: change pages, archived versions, one-click unsubscribe."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import notify_handler
import web_handler

from policywatch.subscribers import Subscribers
from tests.integration.conftest import sqs_event, training_change
from tests.integration.test_notify import emails, subscribe

SAMPLE = json.loads((Path(__file__).resolve().parents[2] / "events" / "web.json").read_text())


def request(method: str, path: str, query: dict[str, str] | None = None, body: str = "") -> dict:
    event = copy.deepcopy(SAMPLE)
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["queryStringParameters"] = query
    event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in (query or {}).items())
    event["body"] = body
    return event


def test_a_get_asks_and_a_one_click_post_unsubscribes(stack, context):
    change = training_change(stack, context)["body"]
    watcher = subscribe("watcher@example.com", "watcher")
    query = {"s": watcher.subscriber_id, "t": watcher.unsubscribe_token}

    page = web_handler.handler(request("GET", "/unsubscribe", query), context)
    assert page["statusCode"] == 200 and '<form method="post"' in page["body"]
    assert Subscribers("subscribers").get(watcher.subscriber_id).status == "active"  # link scanners change nothing

    done = web_handler.handler(request("POST", "/unsubscribe", query, "List-Unsubscribe=One-Click"), context)
    assert done["statusCode"] == 200 and "You are unsubscribed" in done["body"]
    assert Subscribers("subscribers").get(watcher.subscriber_id).status == "unsubscribed"
    assert web_handler.handler(request("POST", "/unsubscribe", query), context)["statusCode"] == 200  # twice is fine

    notify_handler.handler(sqs_event(change), context)
    assert emails() == []  # the fan-out reads the watch items, which the unsubscribe rewrote too


def test_a_wrong_token_changes_nothing(stack, context):
    watcher = subscribe("watcher@example.com", "watcher")
    for query in ({"s": watcher.subscriber_id, "t": "guess"}, {"s": "sub_nobody", "t": watcher.unsubscribe_token}, {}):
        response = web_handler.handler(request("POST", "/unsubscribe", query), context)
        assert response["statusCode"] == 404 and "not valid" in response["body"]
    assert Subscribers("subscribers").get(watcher.subscriber_id).status == "active"


def test_change_pages_and_archived_versions_are_served_with_their_hash(stack, context):
    change = training_change(stack, context)["body"]
    page = web_handler.handler(request("GET", "/" + change["record_key"].removesuffix(".json")), context)
    assert page["statusCode"] == 200 and page["headers"]["Content-Type"].startswith("text/html")
    assert change["evidence"]["current"]["sha256"] in page["body"]
    current = change["evidence"]["current"]
    version = web_handler.handler(request("GET", "/" + current["key"]), context)
    assert version["statusCode"] == 200 and version["headers"]["X-Content-SHA256"] == current["sha256"]
    assert "We may use your Inputs and Outputs to train our models" in version["body"]


def test_nothing_else_in_the_archive_is_served(stack, context):
    training_change(stack, context)
    for path in (
        "/versions/../snapshots/anthropic/privacy-policy/x.html",
        "/changes/anthropic/x/y",
        "/config/catalog.json",
        "/versions/a/b/2025-08-29T003202.000Z.md",
    ):
        assert web_handler.handler(request("GET", path), context)["statusCode"] == 404
