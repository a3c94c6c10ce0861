"""The public web function against moto: change pages, archived versions, one-click unsubscribe."""

from __future__ import annotations

import copy
import json
import threading

import pytest
from moto.dynamodb.models import DynamoDBBackend

from functions.web import web_handler
from policywatch.core.errors import InputError
from policywatch.storage.archive import Archive
from policywatch.storage.subscribers import Subscribers
from policywatch.web import views
from policywatch.web.site import Site
from tests.helpers.aws import BUCKET
from tests.helpers.changes import training_change
from tests.helpers.events import sqs_event
from tests.helpers.faults import answer_with_error
from tests.helpers.notify import emails, notify, subscribe
from tests.helpers.paths import EVENTS

SAMPLE = json.loads((EVENTS / "web.json").read_text())


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

    notify(stack, context, sqs_event(change))
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


# --- hostile requests (issue 11): every answer is a page, never a crash --------------------------


def _answer(method: str, path: str, query: dict[str, str] | None, context) -> dict:
    """The function's answer; a raised exception is what Lambda turns into a bare 502/500."""
    response = web_handler.handler(request(method, path, query), context)
    assert "Traceback" not in response["body"]
    return response


@pytest.mark.timeout(30)
def test_malformed_unsubscribe_links_are_refused_with_a_404(stack, context):
    watcher = subscribe("watcher@example.com", "watcher")
    sid, token = watcher.subscriber_id, watcher.unsubscribe_token
    for query in (
        {"s": sid, "t": "é" * 32},  # non-ASCII: hmac.compare_digest raised TypeError on str
        {"s": sid, "t": token[:-1] + "é"},
        {"s": sid, "t": token + "x" * 100_000},  # overlong
        {"s": sid, "t": token + "\x00"},
        {"s": sid, "t": f"{token} "},
        {"s": "s" * 5000, "t": token},  # longer than a DynamoDB key may be
        {"s": "é" * 3000, "t": token},
        {"s": sid + "\n", "t": token},
        {"s": sid},
        {"t": token},
    ):
        for method in ("GET", "POST"):
            response = _answer(method, "/unsubscribe", query, context)
            assert response["statusCode"] == 404 and "not valid" in response["body"], (method, query)
    assert Subscribers("subscribers").get(sid).status == "active"


def test_wrong_methods_are_405_and_unknown_paths_a_404_page(stack, context):
    for method in ("PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"):
        response = _answer(method, "/unsubscribe", None, context)
        assert response["statusCode"] == 405 and response["headers"]["Allow"] == "GET, POST"
    response = _answer("POST", "/changes/anthropic/privacy-policy/2025-08-29T003202.000Z", None, context)
    assert response["statusCode"] == 405 and response["headers"]["Allow"] == "GET, HEAD"
    for path in ("/nothing", "/changes/a/b/c/d", "/unsubscribe/x", "/%00", "/" + "a/" * 5000, "/é"):
        response = _answer("GET", path, None, context)
        assert response["statusCode"] == 404 and response["headers"]["Content-Type"].startswith("text/html")
        assert "Not found" in response["body"]


def _isolated_transactions(monkeypatch) -> None:
    """DynamoDB transactions are serialisable; moto's are not across threads (a failed one puts back a
    copy of the whole table taken before a concurrent one committed), so they take turns here."""
    lock, transact = threading.Lock(), DynamoDBBackend.transact_write_items

    def isolated(self, *args, **kwargs):
        with lock:
            return transact(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", isolated)


def _pair_reads_first(monkeypatch) -> None:
    """Both requests of a pair read the subscriber before either writes: the losing interleaving, every time."""
    barriers: dict[str, threading.Barrier] = {}
    lock, real_get = threading.Lock(), Subscribers.get
    synced = threading.local()

    def get(self, subscriber_id):
        found = real_get(self, subscriber_id)
        if threading.current_thread() is not threading.main_thread() and not getattr(synced, "done", False):
            synced.done = True  # only each request's first read (one thread per request)
            with lock:
                barrier = barriers.setdefault(subscriber_id, threading.Barrier(2))
            barrier.wait(timeout=10)
        return found

    monkeypatch.setattr(Subscribers, "get", get)


@pytest.mark.timeout(120)
def test_twenty_pairs_of_simultaneous_one_click_posts_all_unsubscribe(stack, context, monkeypatch):
    """Issue 11: the second POST of a pair lost the conditional write and answered 500 (ConcurrentUpdateError)."""
    change = training_change(stack, context)["body"]
    people = [subscribe(f"reader{i}@example.com", "watcher") for i in range(20)]
    _isolated_transactions(monkeypatch)
    _pair_reads_first(monkeypatch)
    answers: list[tuple[str, int | str]] = []

    def post(person) -> None:
        query = {"s": person.subscriber_id, "t": person.unsubscribe_token}
        try:
            answers.append((person.subscriber_id, web_handler.handler(request("POST", "/unsubscribe", query), context)))
        except Exception as exc:  # noqa: BLE001 - what Lambda would turn into an error page
            answers.append((person.subscriber_id, f"raised {type(exc).__name__}"))

    for person in people:  # a pair at a time: two threads, one click each
        threads = [threading.Thread(target=post, args=(person,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert len(answers) == 40
    failed = [(sid, a if isinstance(a, str) else a["statusCode"]) for sid, a in answers
              if isinstance(a, str) or a["statusCode"] != 200]  # fmt: skip
    assert failed == []
    assert all("You are unsubscribed" in a["body"] for _, a in answers)
    store = Subscribers("subscribers")
    assert {store.get(p.subscriber_id).status for p in people} == {"unsubscribed"}
    assert {s.status for s in store.watchers("anthropic")} == {"unsubscribed"}  # the watch items too
    notify(stack, context, sqs_event(change))
    assert emails() == []


def _s3_answers(monkeypatch, operation: str, status: int, code: str) -> None:
    """S3 answers ``operation`` with an error, as it does in AWS (e.g. 403 for a missing key without ListBucket)."""
    answer_with_error("s3", operation, status, code)
    monkeypatch.setattr(web_handler._site(), "archive", Archive(BUCKET))


def test_a_missing_key_is_404_even_when_s3_says_403(stack, context, monkeypatch, caplog):
    """Without s3:ListBucket, S3 answers 403 for a missing key; the pages answered 500."""
    _s3_answers(monkeypatch, "GetObject", 403, "AccessDenied")
    _s3_answers(monkeypatch, "HeadObject", 403, "403")
    for path in (
        "/changes/anthropic/privacy-policy/2025-08-29T003202.000Z",
        "/versions/anthropic/privacy-policy/2025-08-29T003202.000Z.md",
    ):
        response = _answer("GET", path, None, context)
        assert response["statusCode"] == 404 and "There is no such" in response["body"]
    warned = [r for r in caplog.records if r.levelname == "WARNING" and "answering 404" in r.getMessage()]
    assert len(warned) == 2  # logged: a 403 also means the function's grant is not what the template says


def test_a_version_gone_between_head_and_get_is_404(stack, context, monkeypatch):
    current = training_change(stack, context)["body"]["evidence"]["current"]
    _s3_answers(monkeypatch, "GetObject", 404, "NoSuchKey")
    assert _answer("GET", "/" + current["key"], None, context)["statusCode"] == 404


def test_storage_failing_for_now_is_a_503_page_to_come_back_to(stack, context, monkeypatch):
    _s3_answers(monkeypatch, "GetObject", 500, "InternalError")
    response = _answer("GET", "/changes/anthropic/privacy-policy/2025-08-29T003202.000Z", None, context)
    assert response["statusCode"] == 503 and response["headers"]["Content-Type"].startswith("text/html")
    assert response["headers"]["Retry-After"] == "60"
    assert "Try again in a minute" in response["body"] and "InternalError" not in response["body"]


def test_an_unexpected_failure_is_a_plain_500_page(stack, context, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug with a detail: s3://policywatch-archive/secret")

    monkeypatch.setattr(views, "change_view", broken)  # the change page's own rendering
    key = "changes/anthropic/privacy-policy/2025-08-29T003202.000Z"
    stack.s3.put_object(Bucket=stack.bucket, Key=key + ".json", Body=b"{}")
    response = _answer("GET", "/" + key, None, context)
    assert response["statusCode"] == 500 and response["headers"]["Content-Type"].startswith("text/html")
    assert "Something went wrong" in response["body"] and "secret" not in response["body"]


def test_a_corrupt_change_record_is_a_plain_500_page(stack, context):
    key = "changes/anthropic/privacy-policy/2025-08-29T003202.000Z"
    stack.s3.put_object(Bucket=stack.bucket, Key=key + ".json", Body=b"{not json")
    response = _answer("GET", "/" + key, None, context)
    assert response["statusCode"] == 500 and "JSONDecodeError" not in response["body"]


def test_a_request_refused_as_input_is_a_400_page_with_its_one_line(stack, context, monkeypatch):
    def refuse(*args, **kwargs):
        raise InputError("not an archive key: '<b>changes/x</b>'\nsecond line never shown")

    monkeypatch.setattr(Site, "change", refuse)  # the change page's read
    response = _answer("GET", "/changes/anthropic/privacy-policy/2025-08-29T003202.000Z", None, context)
    assert response["statusCode"] == 400 and response["headers"]["Content-Type"].startswith("text/html")
    assert "Bad request" in response["body"] and "not an archive key" in response["body"]
    assert "<b>changes" not in response["body"] and "second line" not in response["body"]
