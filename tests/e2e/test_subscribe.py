"""A person subscribes themselves, on the deployed stack, in Chromium: no operator anywhere.

Home -> "Subscribe for free" -> the form -> the confirmation e-mail (read from MiniStack's
outbox) -> confirm -> the manage page. A billing system moves them to Professional through the
signed billing endpoint. They sign out, ask for a magic link, open it, add a webhook, send the
test event (a receiver on loopback verifies it with the ``standardwebhooks`` library), rotate
the secret (during the overlap the receiver verifies with the old secret and with the new),
verify a phone with the code from the SMS outbox, unsubscribe, and delete their data.

Every page is held to what the site's pages are (test_site.py): no console error, no serious or
critical axe-core violation, a screenshot under .local/screenshots/subscribe/.

This module runs after test_stack.py (its name sorts after it), whose counts of e-mails in the
shared outbox would otherwise include these.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime

import pytest
import requests
from standardwebhooks import Webhook
from werkzeug import Request, Response

from policywatch.storage.subscribers import address_key
from tests.helpers.browser import Reader, chromium, serious_violations
from tests.helpers.paths import ROOT
from tests.helpers.waiting import wait_for

SHOTS = ROOT / ".local" / "screenshots" / "subscribe"
ADDRESS = "reader@example.com"
PHONE = "+14155550142"


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def mail_to(deployed, address: str, subject: str, seen: int = 0) -> dict:
    """The newest e-mail to ``address`` with ``subject``, once there are more than ``seen`` of them."""

    def found():
        mails = [m for m in deployed.outbox()["emails"] if address in m["To"] and m["Subject"] == subject]
        return mails[-1] if len(mails) > seen else None

    return wait_for(f"the e-mail {subject!r} to {address}", found, timeout=30)


def count(deployed, address: str, subject: str) -> int:
    return len([m for m in deployed.outbox()["emails"] if address in m["To"] and m["Subject"] == subject])


def link(mail: dict, path: str) -> str:
    found = re.search(rf"https?://\S+{re.escape(path)}\?\S+", mail["BodyText"])
    assert found, mail["BodyText"]
    return found.group(0)


class Journey:
    def __init__(self, reader: Reader, shots: list[str]) -> None:
        self.reader, self.page, self.shots = reader, reader.page, shots

    def check(self, name: str) -> None:
        """What every page is held to, and its screenshot."""
        assert self.reader.errors() == []
        serious, _ = serious_violations(self.page)
        assert serious == [], f"{name}: {serious}"
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        self.shots.append(name)

    def text(self) -> str:
        return " ".join(self.page.inner_text("main").split())


def billing(deployed, tier: str, email: str) -> dict:
    """What a billing system sends: a Standard Webhooks message signed with the stack's billing secret."""
    secret = deployed.client("secretsmanager").get_secret_value(SecretId=deployed.outputs["BillingSecretArn"])
    key = "whsec_" + base64.b64encode(secret["SecretString"].encode()).decode()
    body = json.dumps({"email": email, "tier": tier})
    moment = datetime.now(UTC)
    headers = {
        "webhook-id": f"msg_billing_{tier}",
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(key).sign(f"msg_billing_{tier}", moment, body),
        "content-type": "application/json",
    }
    answer = requests.post(f"{deployed.site_url}/api/v1/billing/tier", data=body, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_person_subscribes_manages_and_leaves_without_an_operator(deployed, browser, webhook_receiver):
    received: list[dict] = []

    def receive(request: Request) -> Response:
        received.append({"body": request.get_data(), "headers": {k.lower(): v for k, v in request.headers.items()}})
        return Response("", status=200)

    webhook_receiver.expect_request("/subscriber-hook").respond_with_handler(receive)
    shots: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    journey = Journey(Reader(context.new_page()), shots)
    page = journey.page

    # Home -> sign-up.
    page.goto(deployed.site_url + "/")
    page.get_by_role("link", name="Subscribe for free").click()
    page.wait_for_url("**/signup")
    journey.check("01-signup")
    page.get_by_label("Your e-mail address").fill(ADDRESS)
    # Whichever platforms the catalog in effect has (the modules before this one override it).
    first = page.locator("#s-platform option:not([value=''])").first.get_attribute("value")
    page.get_by_label("The platform to watch").select_option(value=first)
    page.get_by_role("button", name="Subscribe").click()
    assert "Check your inbox" in journey.text()
    journey.check("02-check-inbox")

    # The confirmation e-mail, and nothing else, reaches the address; one click confirms.
    confirmation = mail_to(deployed, ADDRESS, "Confirm your policywatch subscription")
    assert [m["Subject"] for m in deployed.outbox()["emails"] if ADDRESS in m["To"]] == [confirmation["Subject"]]
    page.goto(link(confirmation, "/confirm"))
    journey.check("03-confirm")
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/manage?notice=confirmed")
    assert "Your subscription is confirmed" in journey.text() and "Free tier" in journey.text()
    journey.check("04-manage-free")

    # A billing system upgrades them; the page shows what Professional brings.
    assert billing(deployed, "professional", ADDRESS)["tier"] == "professional"

    # Signed out, a magic link opens the settings again.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/manage")
    journey.check("05-ask-for-a-link")
    seen = count(deployed, ADDRESS, "Your policywatch settings")
    page.get_by_label("Your e-mail address").fill(ADDRESS)
    page.get_by_role("button", name="E-mail me a link").click()
    assert "Check your inbox" in journey.text()
    magic = mail_to(deployed, ADDRESS, "Your policywatch settings", seen)
    page.goto(link(magic, "/manage/open"))
    page.get_by_role("button", name="Open my settings").click()
    page.wait_for_url("**/manage")
    assert "Professional tier" in journey.text()

    # A webhook: added, tested (verified by the receiver), rotated (both signatures verify).
    page.get_by_label("Endpoint URL (https)").fill(webhook_receiver.url_for("/subscriber-hook"))
    page.get_by_role("button", name="Add the endpoint").click()
    first_secret = page.locator(".secret code").inner_text()
    journey.check("06-webhook-added")
    page.get_by_role("button", name="Send a test event").click()
    assert re.search(r"Test event msg_test_\w+: HTTP 200 in \d+ ms", journey.text()), journey.text()
    test_event = Webhook(first_secret).verify(received[-1]["body"], received[-1]["headers"])
    assert test_event["type"] == "policywatch.test"
    journey.check("07-test-event")
    page.get_by_role("button", name="Rotate the secret").click()
    new_secret = page.locator(".secret code").inner_text()
    assert new_secret != first_secret and "the old one keeps signing too until" in journey.text()
    page.get_by_role("button", name="Send a test event").click()
    during = received[-1]
    assert len(during["headers"]["webhook-signature"].split()) == 2
    for secret in (first_secret, new_secret):
        assert Webhook(secret).verify(during["body"], during["headers"])["type"] == "policywatch.test"
    journey.check("08-rotated")
    page.set_viewport_size({"width": 375, "height": 800})  # the same page on a phone: nothing wider than it
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    journey.check("08-rotated-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # A phone, verified with the code from the SMS outbox.
    page.get_by_label("Phone number, in international form (+14155550123)").fill(PHONE)
    page.get_by_role("button", name="Send me a code").click()
    assert f"A code is on its way to {PHONE}" in journey.text()
    sms = wait_for("the code SMS", lambda: [m for m in deployed.outbox()["sms"] if m["PhoneNumber"] == PHONE], 30)
    code = re.search(r"code is (\d{6})", sms[-1]["Message"]).group(1)
    page.get_by_label("The 6-digit code from the SMS").fill(code)
    page.get_by_role("button", name="Verify").click()
    assert "Your phone number is verified" in journey.text()
    journey.check("09-phone-verified")

    # Leaving: unsubscribe, then delete everything.
    page.get_by_role("button", name="Unsubscribe from everything").click()
    assert "You are unsubscribed" in journey.text()
    journey.check("10-unsubscribed")
    page.get_by_label(re.compile("Delete my subscription")).check()
    page.get_by_role("button", name="Delete my data").click()
    assert "Your data is deleted" in journey.text()
    journey.check("11-deleted")
    table = deployed.outputs["SubscribersTableName"]
    items = deployed.client("dynamodb").scan(TableName=table)["Items"]
    assert not [i for i in items if i.get("email", {}).get("S") == ADDRESS]
    assert not [i for i in items if i["subscriber_id"]["S"] == address_key(ADDRESS)]  # the address is free
    context.close()
    assert len(shots) == 12
