"""The manage page's webhooks and the billing endpoint, against moto and a real receiver on loopback.

Receivers verify with the ``standardwebhooks`` library, as a subscriber's code would; the billing
requests are signed with it too, as a billing system's would be.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from standardwebhooks import Webhook

from functions.web import web_handler
from policywatch.web.billing import PATH, signing_key
from tests.helpers.aws import BILLING_SECRET
from tests.helpers.webclient import WebClient
from tests.helpers.webhooks import webhook_receiver
from tests.integration.web.test_accounts import ADDRESS, manage_session, subscriber


def secret_on(page) -> str:
    return page.soup.select_one(".secret code").get_text()


def test_an_owner_adds_a_webhook_sends_a_test_event_and_rotates_its_secret(stack, monkeypatch):
    received: list[dict] = []
    with webhook_receiver(monkeypatch) as server:
        web_handler._services.cache_clear()  # the allowlist of the receiver's port is read with the settings
        server.expect_request("/hook").respond_with_handler(lambda r: record(r, received))
        client = manage_session(stack, "professional")
        page = client.get("/manage")
        refused = client.submit(page, "/manage/webhooks", url="https://localhost/hook")
        assert refused.status == 400 and "localhost" in refused.text
        added = client.submit(page, "/manage/webhooks", url=server.url_for("/hook"))
        assert added.status == 200 and "Webhook endpoint added" in added.text
        first_secret = secret_on(added)
        [endpoint] = subscriber().webhooks
        assert endpoint.secret == first_secret

        tested = client.submit(added, f"/manage/webhooks/{endpoint.endpoint_id}/test")
        assert "Test event msg_test_" in tested.text and "HTTP 200" in tested.text
        [event] = received
        assert Webhook(first_secret).verify(event["body"], event["headers"])["type"] == "policywatch.test"

        rotated = client.submit(tested, f"/manage/webhooks/{endpoint.endpoint_id}/rotate")
        new_secret = secret_on(rotated)
        assert new_secret != first_secret and "the old one keeps signing too until" in rotated.text
        client.submit(rotated, f"/manage/webhooks/{endpoint.endpoint_id}/test")
        during = received[-1]
        assert len(during["headers"]["webhook-signature"].split()) == 2
        for secret in (first_secret, new_secret):  # either receiver, old or new, verifies it
            assert Webhook(secret).verify(during["body"], during["headers"])

        removed = client.submit(rotated, f"/manage/webhooks/{endpoint.endpoint_id}/remove")
        assert client.follow(removed).status == 200 and subscriber().webhooks == []


def record(request, received: list):
    from werkzeug import Response

    received.append({"body": request.get_data(), "headers": {k.lower(): v for k, v in request.headers.items()}})
    return Response("", status=200)


def test_a_test_event_to_a_failing_receiver_says_what_it_answered(stack, monkeypatch):
    with webhook_receiver(monkeypatch) as server:
        web_handler._services.cache_clear()
        server.expect_request("/hook").respond_with_data("no", status=401)
        client = manage_session(stack, "professional")
        added = client.submit(client.get("/manage"), "/manage/webhooks", url=server.url_for("/hook"))
        endpoint_id = subscriber().webhooks[0].endpoint_id
        tested = client.submit(added, f"/manage/webhooks/{endpoint_id}/test")
        assert "the receiver answered HTTP 401" in tested.text


def test_watcher_has_no_webhooks(stack):
    client = manage_session(stack, "watcher")
    page = client.get("/manage")
    assert page.soup.select_one("form[action^='/manage/webhooks']") is None
    refused = client.post("/manage/webhooks", {**page.form("/manage/platforms"), "url": "https://example.com/h"})
    assert refused.status == 400 and "Watcher tier has no webhooks" in refused.text


# ------------------------------------------------------------------ billing


def billing(body: dict, secret: str = BILLING_SECRET, moment: datetime | None = None, raw: str | None = None):
    payload = raw if raw is not None else json.dumps(body)
    moment = moment or datetime.now(UTC)
    signature = Webhook(signing_key(secret)).sign("msg_billing_1", moment, payload)
    headers = {
        "webhook_id": "msg_billing_1",
        "webhook_timestamp": str(int(moment.timestamp())),
        "webhook_signature": signature,
        "content_type": "application/json",
    }
    return WebClient(origin=None)._send("POST", PATH, payload, headers)


def test_a_billing_system_sets_the_tier_and_a_downgrade_says_what_stops(stack):
    manage_session(stack, "professional")
    sid = subscriber().subscriber_id
    up = billing({"subscriber_id": sid, "tier": "professional"})
    assert up.status == 200 and json.loads(up.body)["stops"] == []
    down = billing({"email": ADDRESS, "tier": "free"})
    answer = json.loads(down.body)
    assert down.status == 200 and answer["previous_tier"] == "professional" and answer["tier"] == "free"
    assert answer["stops"] and all(isinstance(line, str) and "\n" not in line for line in answer["stops"])
    assert subscriber().tier == "free"


def test_billing_refuses_what_it_cannot_trust_or_find(stack):
    manage_session(stack, "watcher")
    sid = subscriber().subscriber_id
    forged = billing({"subscriber_id": sid, "tier": "professional"}, secret="another-secret-entirely-0000000000")
    assert forged.status == 401 and "signature" in json.loads(forged.body)["error"]
    stale = billing({"subscriber_id": sid, "tier": "professional"}, moment=datetime.now(UTC) - timedelta(hours=1))
    assert stale.status == 401
    assert billing({"subscriber_id": "sub_0000000000000000", "tier": "watcher"}).status == 404
    assert billing({"subscriber_id": sid, "tier": "platinum"}).status == 400
    assert billing({}, raw="[not json").status == 400
    assert subscriber().tier == "watcher"
