"""SMS goes only to a verified phone; numbers from before verification existed count as verified."""

from dataclasses import replace

from policywatch.subscribers import Subscriber, entitlement, new_subscriber

CHANGE = {"platform": "anthropic", "severity": "high", "categories": []}


def watcher(**options) -> Subscriber:
    made = new_subscriber(
        email="ana@example.com", tier_id="watcher", platforms=["anthropic"], known_platforms=["anthropic"], **options
    )
    return replace(made, status="active")


def test_an_unverified_phone_gets_no_sms_until_verified():
    unverified = replace(watcher(phone="+14155550123"), phone_verified=False)
    assert entitlement(unverified, CHANGE).channels == ("email",)
    assert entitlement(replace(unverified, phone_verified=True), CHANGE).channels == ("email", "sms")


def test_a_stored_subscriber_without_the_flag_was_added_by_an_operator_and_is_verified():
    item = watcher(phone="+14155550123").to_item()
    assert item["phone_verified"] is True
    del item["phone_verified"]
    assert Subscriber.from_item(item).phone_verified
    assert Subscriber.from_item({**item, "phone_verified": False}).phone_verified is False
