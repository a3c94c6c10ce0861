"""The fan-out's turns (no AWS): subscribers take turns, and none has more than its share in flight."""

from __future__ import annotations

from collections import deque

import pytest

from policywatch.notify.fanout import Task, Turns
from policywatch.storage.deliveries import DeliveryKey
from policywatch.subscribers.tiers import tier


def queues(*sizes: int) -> list[deque[Task]]:
    plan = tier("professional")
    return [
        deque(Task(DeliveryKey("c", f"s{s}", f"webhook:{i}"), None, plan) for i in range(size))  # type: ignore[arg-type]
        for s, size in enumerate(sizes)
    ]


def started(turns: Turns) -> list[str]:
    found = []
    while (picked := turns.next()) is not None:
        found.append(picked[1].key.subscriber_id)
    return found


def test_subscribers_take_turns_and_one_never_has_more_than_two_in_flight():
    turns = Turns(queues(16, 1, 1, 1), per_subscriber=2)
    assert started(turns) == ["s0", "s1", "s2", "s3", "s0"]  # then s0 waits for room; the others are done
    turns.done(1)  # another subscriber's delivery ended: no room made for s0
    assert started(turns) == []
    turns.done(0)
    assert started(turns) == ["s0"]


def test_what_is_not_started_is_handed_back_in_turn_order():
    turns = Turns(queues(3, 2), per_subscriber=1)
    assert started(turns) == ["s0", "s1"]
    left = turns.rest()
    assert [t.key.subscriber_id for t in left] == ["s0", "s1", "s0"]
    turns.done(0)
    assert started(turns) == []


@pytest.mark.timeout(10)  # every operation is O(1): 20,000 subscribers in about a second (quadratic: minutes)
def test_turns_cost_the_same_per_task_however_many_subscribers():
    turns = Turns(queues(*([3] * 20_000)))
    count = 0
    while (picked := turns.next()) is not None:
        turns.done(picked[0])
        count += 1
    assert count == 60_000
