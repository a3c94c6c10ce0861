"""Send pacing against moto: one schedule shared by every instance, a throttled send slowed, not failed."""

from __future__ import annotations

import json
import time

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from policywatch.core.links import Links
from policywatch.notify import pacing
from policywatch.notify.dispatch import DeliveryOptions
from policywatch.notify.jobs import RetryQueue, job_body
from policywatch.notify.retries import RedeliveryOutcome, redeliver
from policywatch.notify.settings import NotifySettings
from policywatch.storage.deliveries import Deliveries, DeliveryKey
from policywatch.storage.outbound import MAX_THROTTLED, Mailer, Paced
from policywatch.storage.queues import Queue
from policywatch.storage.sendrate import HEADROOM, NoSendSlot, SendRate
from policywatch.storage.subscribers import Subscribers
from tests.helpers.aws import REGION, SENDER
from tests.helpers.changes import training_change
from tests.helpers.faults import Faults
from tests.helpers.notify import subscribe

TABLE = "send-rate"


def _slots(rate: SendRate, count: int) -> list[int]:
    return [rate._take() for _ in range(count)]


def test_instances_draw_evenly_spaced_slots_from_one_schedule(stack):
    instances = [SendRate(TABLE, "ses", 200) for _ in range(4)]  # four function instances, one account
    # In turns, not threads: moto's DynamoDB does not apply concurrent updates atomically (DynamoDB does;
    # bench/fanout.py runs instances as processes against MiniStack's).
    taken = sorted(rate._take() for _ in range(100) for rate in instances)
    assert len(set(taken)) == 400  # no slot given twice
    gaps = {b - a for a, b in zip(taken, taken[1:], strict=False)}
    assert min(gaps) >= instances[0].interval_us  # 1 / (200 x HEADROOM) s apart, across instances
    # Blocks of a twentieth of a second: a few writes a second, not one per send.
    assert sum(r.reservations for r in instances) <= 400 // instances[0].block + 8


def test_a_schedule_left_idle_starts_again_at_now_not_with_a_burst(stack):
    rate = SendRate(TABLE, "ses", 100)
    _slots(rate, rate.block)
    later = SendRate(TABLE, "ses", 100)  # another instance, after a quiet spell: the counter lies in the past
    stack_now = int(time.time() * 1_000_000)
    stack.dynamodb.update_item(
        TableName=TABLE,
        Key={"limiter": {"S": "ses"}},
        UpdateExpression="SET next_us = :old",
        ExpressionAttributeValues={":old": {"N": str(stack_now - 60_000_000)}},
    )
    first, second = _slots(later, 2)
    assert first >= stack_now and second - first == later.interval_us


def test_a_throttled_account_slows_every_instance_once_a_second(stack):
    one, other = SendRate(TABLE, "ses", 50), SendRate(TABLE, "ses", 50)
    before = one._take()
    one.slow_down()
    other.slow_down()  # refused together: the schedule moves on a second, not two
    after = other._take()
    assert 1_000_000 <= after - before < 1_500_000
    assert (one.slowed, other.slowed) == (1, 0)


def test_a_slot_after_the_deadline_leaves_the_send_for_later(stack):
    rate = SendRate(TABLE, "sns-sms", 1)
    rate.wait()
    with pytest.raises(NoSendSlot, match="sns-sms: no send slot before the deadline"):
        rate.wait(deadline=time.monotonic() + 0.1)  # the next slot is ~1.1 s away


def test_ses_throttling_slows_the_send_down_instead_of_failing_it(stack):
    rate = SendRate(TABLE, "ses", 1000)
    Faults().fail("ses", "SendRawEmail", times=2, code="Throttling", sender=True)
    mailer = Mailer(Paced(rate))
    started = time.monotonic()
    message_id = mailer.send_raw(SENDER, "reader@example.com", b"Subject: hi\r\n\r\nhello\r\n")
    assert message_id and len(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages) == 1
    # The first refusal pushed the schedule a second on; the second, about a second later, once more at most.
    assert 1 <= rate.slowed <= 2 and time.monotonic() - started >= 1.0


def test_a_send_throttled_again_and_again_is_left_for_a_later_attempt(stack, monkeypatch):
    monkeypatch.setattr("policywatch.storage.sendrate.SLOW_DOWN_SECONDS", 0.01)
    Faults().fail("ses", "SendRawEmail", times=MAX_THROTTLED + 1, code="Throttling", sender=True)
    with pytest.raises(NoSendSlot, match="throttled 9 times in a row"):
        Mailer(Paced(SendRate(TABLE, "ses", 1000))).send_raw(SENDER, "reader@example.com", b"Subject: x\r\n\r\nx\r\n")
    assert ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages == []


def test_the_email_rate_is_the_accounts_quota_unless_capped_lower(stack, monkeypatch):
    monkeypatch.setattr(pacing, "_quota", None)
    assert pacing.email_rate(0) == 1.0  # moto's account: one a second
    assert pacing.email_rate(0.5) == 0.5 and pacing.email_rate(50) == 1.0
    monkeypatch.setenv("SEND_RATE_TABLE", TABLE)
    options = DeliveryOptions.from_settings(NotifySettings.from_env(), deadline=None)
    assert options.mailer.pacing.rate is not None and options.mailer.pacing.rate.rate == 1.0
    assert options.texts.pacing.rate is not None and options.texts.pacing.rate.rate == 20.0  # SNS: the setting
    assert options.mailer.pacing.rate.interval_us == int(1_000_000 / HEADROOM)
    assert DeliveryOptions(sender=SENDER, links=Links()).mailer.pacing.rate is None  # unpaced without a table


def test_an_instance_slower_than_its_slots_still_uses_them(stack):
    rate = SendRate(TABLE, "ses", 100)  # blocks of 4 slots 11 ms apart
    rate._take()
    first_block = rate.reservations
    for _ in range(rate.block - 1):
        time.sleep(0.02)  # each send takes longer than the spacing: its next slot is a little late
        rate._take()
    assert rate.reservations == first_block  # none dropped: the instance keeps the quota's pace, not half of it
    rate._take()
    time.sleep(0.15)  # frozen past the allowance: the rest of its block would be a burst
    before = rate.reservations
    rate._take()
    assert rate.reservations > before


def test_a_retry_that_finds_no_send_slot_in_time_comes_back_as_the_same_attempt_untouched(stack, context, monkeypatch):
    monkeypatch.setattr("policywatch.notify.retries.NO_SLOT_DELAY_SECONDS", 0)  # visible at once, to read it
    change = training_change(stack, context)["body"]
    reader = subscribe("reader@example.com", "watcher")
    key = DeliveryKey(change["change_id"], reader.subscriber_id, "email")
    deliveries = Deliveries("deliveries")
    deliveries.claim(key, record_key=change["record_key"])
    deliveries.retrying(key, "SES unavailable", 0)
    retries = RetryQueue(Queue(stack.delivery_queue_url), Queue(stack.delivery_dlq_url))
    rate = SendRate(TABLE, "ses", 1)
    rate.wait()  # the schedule's next slot is a second away
    options = DeliveryOptions(sender=SENDER, links=Links(), mailer=Mailer(Paced(rate, deadline=time.monotonic() + 0.1)))

    result = redeliver(
        job_body(key, change["record_key"]),
        1,
        subscribers=Subscribers("subscribers"),
        deliveries=deliveries,
        options=options,
        retries=retries,
        load_change=lambda _: change,
    )

    assert result.outcome is RedeliveryOutcome.RESCHEDULED and result.attempt == 2
    record = deliveries.for_change(change["change_id"])[0]
    assert (record["status"], record["attempts"]) == ("retrying", 1)  # not taken over: nothing was claimed
    (message,) = stack.sqs.receive_message(QueueUrl=stack.delivery_queue_url, WaitTimeSeconds=0).get("Messages", [])
    assert json.loads(message["Body"]).get("attempt", 2) == 2  # the same attempt, later
    assert ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages == []
