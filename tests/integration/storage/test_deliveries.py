"""The deliveries table by subscriber (moto, the table as template.yaml declares it): recent deliveries, "delete my data"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from policywatch.core import clock
from policywatch.storage.clients import from_dynamodb
from policywatch.storage.deliveries import KEPT_WHEN_FORGOTTEN, Deliveries, DeliveryKey
from tests.helpers.aws import REGION

START = datetime(2026, 3, 1, 6, 0, 0, tzinfo=UTC)


@pytest.fixture
def table(stack, monkeypatch) -> Deliveries:
    """The deliveries table, with a clock that moves one minute on every reading (distinct claim times)."""
    ticks = iter(range(10_000))
    monkeypatch.setattr(clock, "now", lambda: START + timedelta(minutes=next(ticks)))
    return Deliveries("deliveries")


def stored(change_id: str, recipient: str) -> dict:
    item = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName="deliveries",
        Key={"change_id": {"S": change_id}, "recipient": {"S": recipient}},
        ConsistentRead=True,
    )
    return from_dynamodb(item.get("Item", {}))


def test_recent_lists_a_subscribers_deliveries_newest_first(table):
    for n in range(5):
        table.claim(DeliveryKey(f"chg-{n}", "sub_ana", "email"))
    table.claim(DeliveryKey("chg-9", "sub_bob", "email"))

    recent = table.recent("sub_ana")

    assert [r["change_id"] for r in recent] == ["chg-4", "chg-3", "chg-2", "chg-1", "chg-0"]
    assert [r["change_id"] for r in table.recent("sub_ana", limit=2)] == ["chg-4", "chg-3"]
    assert table.recent("sub_ana", limit=0) == [] and table.recent("sub_nobody") == []


def test_recent_reads_past_a_page(table):
    for n in range(130):
        table.claim(DeliveryKey(f"chg-{n:03d}", "sub_ana", "email"))
    recent = table.recent("sub_ana", limit=120)
    assert len(recent) == 120 and recent[0]["change_id"] == "chg-129" and recent[-1]["change_id"] == "chg-010"


def test_forget_keeps_the_audit_trail_and_removes_what_can_identify_a_person(table):
    mail, hook, text = (
        DeliveryKey("chg-1", "sub_ana", "email"),
        DeliveryKey("chg-1", "sub_ana", "webhook:wh_0123456789ab"),
        DeliveryKey("chg-2", "sub_ana", "sms"),
    )
    other = DeliveryKey("chg-1", "sub_bob", "email")
    for key in (mail, hook, text, other):
        table.claim(key, record_key="changes/anthropic/privacy-policy/2026-03-01T060000.000Z.json")
    table.sent(mail, "0100018e-ses-message-id", "accepted by SES")
    table.retrying(hook, "could not connect to hooks.ana.example:443 (93.184.215.14): refused", 30)
    table.failed(text, "Invalid parameter: PhoneNumber +14155550123")
    table.sent(other, "0100018e-bob", "accepted by SES")
    before = {key: stored(key.change_id, key.recipient) for key in (mail, hook, text)}

    assert table.forget("sub_ana") == 3

    for key, old in before.items():
        now = stored(key.change_id, key.recipient)
        assert set(now) <= KEPT_WHEN_FORGOTTEN and now["forgotten_at"]
        assert {k: v for k, v in now.items() if k != "forgotten_at"} == {
            k: v for k, v in old.items() if k in KEPT_WHEN_FORGOTTEN
        }
        text_of_it = repr(now)
        for personal in ("ses-message-id", "hooks.ana.example", "93.184.215.14", "+14155550123", "accepted by"):
            assert personal not in text_of_it
    sent = stored(mail.change_id, mail.recipient)
    assert (sent["status"], sent["attempts"], sent["channel"], sent["subscriber_id"]) == ("sent", 1, "email", "sub_ana")
    assert "sent_at" in sent and "claimed_at" in sent and "expires_at" in sent
    assert stored(other.change_id, other.recipient)["message_id"] == "0100018e-bob"  # someone else's: untouched


def test_forget_may_run_again_and_keeps_the_first_time_it_ran(table):
    key = DeliveryKey("chg-1", "sub_ana", "email")
    table.claim(key)
    table.sent(key, "ses-id", "accepted by SES")
    assert table.forget("sub_ana") == 1
    first = stored(key.change_id, key.recipient)["forgotten_at"]
    table.cancelled(key, "a late write")  # an attempt in flight as it ran, settling after it
    assert table.forget("sub_ana") == 1
    record = stored(key.change_id, key.recipient)
    assert record["forgotten_at"] == first and "detail" not in record
    assert table.forget("sub_nobody") == 0
