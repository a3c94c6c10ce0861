"""Hostile requests to the public web function (issue 11, findings 8 and 9), on moto.

- ``web-non-ascii-token``: a one-click POST whose token has a non-ASCII character
  (``hmac.compare_digest`` raised TypeError on str: the page answered 500).
- ``web-concurrent-posts``: 20 pairs of simultaneous one-click POSTs for the same subscriber,
  both reads before either write (the second write lost the conditional check and raised
  ConcurrentUpdateError: a 500).
- ``web-encoded-word-subject``: a summary carrying an RFC 2047 encoded word with CR LF in it,
  which the ``email`` package decoded into a header of its own (a Bcc here).

``tests/integration/web/test_web.py`` and ``tests/unit/messages/test_render.py`` run the same inputs as
regression tests.
"""

from __future__ import annotations

import contextlib
import email
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from email import policy
from pathlib import Path

PAIRS = 20
ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def _moto() -> Iterator[object]:
    """A moto DynamoDB with the stack's subscribers table; yields the Subscribers store."""
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_SERVICE_NAME": "policywatch",
    }.items():
        os.environ[name] = value
    os.environ.pop("AWS_ENDPOINT_URL", None)
    import boto3
    from moto import mock_aws

    from devstack.tables import create_tables
    from policywatch.storage import clients as aws
    from policywatch.storage.subscribers import Subscribers

    with mock_aws():
        aws.reset()
        create_tables(boto3.client("dynamodb", region_name="us-east-1"), {"SubscribersTable": "subscribers"})
        yield Subscribers("subscribers")
        aws.reset()


def _subscriber(store, n: int):
    from policywatch.subscribers import new_subscriber

    made = new_subscriber(
        email=f"reader{n}@example.com", tier_id="watcher", platforms=["anthropic"], known_platforms=["anthropic"]
    )
    return store.add(replace(made, status="active"))


def non_ascii_token() -> str:
    from policywatch.web import pages as web

    with _moto() as store:
        person = _subscriber(store, 0)
        try:
            page = web.unsubscribe(store, person.subscriber_id, "\u00e9" * 32, confirmed=True, action="")
        except TypeError as exc:
            return f"crashed (a 500): TypeError: {exc}"
        return f"page {page.status}; subscriber still {store.get(person.subscriber_id).status}"


def concurrent_posts() -> str:
    from moto.dynamodb.models import DynamoDBBackend

    from policywatch.storage.subscribers import Subscribers
    from policywatch.subscribers import SubscriberError
    from policywatch.web import pages as web

    with _moto() as store:
        people = [_subscriber(store, n) for n in range(PAIRS)]
        real_get, lock, barriers, local = Subscribers.get, threading.Lock(), {}, threading.local()
        # DynamoDB transactions are serialisable; moto's are not across threads (a failed one puts
        # back a copy of the table taken before a concurrent commit): they take turns here.
        transact, serial = DynamoDBBackend.transact_write_items, threading.Lock()

        def isolated(self, *args, **kwargs):
            with serial:
                return transact(self, *args, **kwargs)

        DynamoDBBackend.transact_write_items = isolated

        def get(self, subscriber_id):  # both requests of a pair read before either writes
            found = real_get(self, subscriber_id)
            if threading.current_thread() is not threading.main_thread() and not getattr(local, "done", False):
                local.done = True
                with lock:
                    barrier = barriers.setdefault(subscriber_id, threading.Barrier(2))
                barrier.wait(timeout=10)
            return found

        Subscribers.get = get
        answers: list[str] = []

        def post(person) -> None:
            try:
                page = web.unsubscribe(store, person.subscriber_id, person.unsubscribe_token, confirmed=True, action="")
                answers.append(str(page.status))
            except SubscriberError as exc:  # ConcurrentUpdateError: what the web function answered 500 for
                answers.append(type(exc).__name__)

        try:
            for person in people:
                threads = [threading.Thread(target=post, args=(person,)) for _ in range(2)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=30)
        finally:
            Subscribers.get, DynamoDBBackend.transact_write_items = real_get, transact
        unsubscribed = sum(store.get(p.subscriber_id).status == "unsubscribed" for p in people)
        counts = {a: answers.count(a) for a in sorted(set(answers))}
        return f"{PAIRS} pairs: answers {counts}; {unsubscribed}/{PAIRS} unsubscribed"


def encoded_word_subject() -> str:
    from policywatch.core.links import Links
    from policywatch.messages.render import alert_email
    from policywatch.notify.channels.email import build_message
    from policywatch.subscribers.tiers import tier

    change = json.loads(json.loads((ROOT / "events" / "notify.json").read_text())["Records"][0]["body"])
    change["summary"] = "=?utf-8?q?x=0D=0ABcc:_victim=40example.com?="
    mail = alert_email(change, tier("watcher"), Links("https://policywatch.example"))
    raw = build_message("alerts@policywatch.example", "reader@example.com", mail, None)
    parsed = email.message_from_bytes(raw, policy=policy.default)
    ours = {"From", "To", "Subject", "Date", "Message-ID"}
    injected = [k for k in parsed if k not in ours and not k.startswith(("Content-", "MIME-"))]
    return f"headers of the summary's making: {injected or 'none'}; subject {str(parsed['Subject'])[-40:]!r}"


CASES = [
    ("web-non-ascii-token", non_ascii_token),
    ("web-concurrent-posts", concurrent_posts),
    ("web-encoded-word-subject", encoded_word_subject),
]
