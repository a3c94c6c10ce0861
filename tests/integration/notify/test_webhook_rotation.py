"""Secret rotation as receivers see it: during the overlap both secrets verify a delivery, after it only the new one.

Receivers on loopback verify with the ``standardwebhooks`` library, never with policywatch's code:
one holding the old secret (not yet switched), one holding the new (switched already).
"""

from __future__ import annotations

from datetime import timedelta

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from werkzeug import Request, Response

from policywatch.core import clock
from policywatch.core.outbound import parse_allowlist
from policywatch.notify.channels.webhook import payload, send
from policywatch.subscribers.model import rotated
from tests.helpers.changes import training_change
from tests.helpers.events import sqs_event
from tests.helpers.notify import deliveries, endpoint, notify, subscribe

CHANGE = {"detected_at": "2026-03-01T06:00:00Z", "platform": "openai", "summary": "Chats kept 30 days"}


def verdicts(secrets: dict[str, str], seen: list[dict[str, bool]]):
    """A receiver handler recording, for each request, which of ``secrets`` (by name) verify it; it answers 204."""

    def handle(request: Request) -> Response:
        seen.append({name: _verifies(secret, request) for name, secret in secrets.items()})
        return Response("", status=204)

    return handle


def _verifies(secret: str, request: Request) -> bool:
    try:
        Webhook(secret).verify(request.get_data(), dict(request.headers))
    except WebhookVerificationError:
        return False
    return True


def test_a_delivery_during_the_overlap_verifies_with_the_old_secret_and_the_new(receiver):
    old = endpoint(receiver, "/hook")
    new = rotated(old, clock.now() - timedelta(hours=23))  # rotated 23 hours ago: an hour of overlap left
    seen: list[dict[str, bool]] = []
    receiver.expect_request("/hook").respond_with_handler(verdicts({"old": old.secret, "new": new.secret}, seen))

    send(new.url, new.signing_secrets(clock.now()), "msg_1", payload(CHANGE), allowlist=_allowed(receiver))

    assert seen == [{"old": True, "new": True}]
    assert len(receiver.log[0][0].headers["webhook-signature"].split(" ")) == 2


def test_after_the_overlap_only_the_new_secret_verifies(receiver):
    old = endpoint(receiver, "/hook")
    new = rotated(old, clock.now() - timedelta(hours=25))  # the overlap ended an hour ago
    seen: list[dict[str, bool]] = []
    receiver.expect_request("/hook").respond_with_handler(verdicts({"old": old.secret, "new": new.secret}, seen))

    send(new.url, new.signing_secrets(clock.now()), "msg_1", payload(CHANGE), allowlist=_allowed(receiver))

    assert seen == [{"old": False, "new": True}]
    assert len(receiver.log[0][0].headers["webhook-signature"].split(" ")) == 1


def test_the_notify_stage_signs_with_both_secrets_while_the_overlap_lasts(stack, context, receiver):
    change = training_change(stack, context)["body"]
    during, after = endpoint(receiver, "/during"), endpoint(receiver, "/after")
    rotated_during = rotated(during, clock.now() - timedelta(hours=1))
    rotated_after = rotated(after, clock.now() - timedelta(days=2))
    seen_during: list[dict[str, bool]] = []
    seen_after: list[dict[str, bool]] = []
    receiver.expect_request("/during").respond_with_handler(
        verdicts({"old": during.secret, "new": rotated_during.secret}, seen_during)
    )
    receiver.expect_request("/after").respond_with_handler(
        verdicts({"old": after.secret, "new": rotated_after.secret}, seen_after)
    )
    pro = subscribe("pro@example.com", "professional", webhooks=[rotated_during, rotated_after])

    assert notify(stack, context, sqs_event(change)) == {"batchItemFailures": []}

    assert seen_during == [{"old": True, "new": True}]
    assert seen_after == [{"old": False, "new": True}]
    records = deliveries(change["change_id"])
    for hook in (rotated_during, rotated_after):
        assert records[f"{pro.subscriber_id}#{hook.channel}"]["status"] == "sent"


def _allowed(receiver) -> frozenset[str]:
    return parse_allowlist(f"127.0.0.1:{receiver.port}")
