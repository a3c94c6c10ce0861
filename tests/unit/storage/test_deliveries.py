"""The deliveries table's sparse index of unsettled deliveries (no AWS): shards, and what is overdue."""

from __future__ import annotations

from policywatch.storage.deliveries import UNSETTLED_SHARDS, DeliveryKey, is_overdue


def test_records_spread_over_the_index_shards():
    shards = {DeliveryKey(f"change-{i}", f"sub_{i}", "email").shard for i in range(200)}
    assert shards == {str(n) for n in range(UNSETTLED_SHARDS)}


def test_a_record_is_overdue_only_while_unsettled_and_past_its_time():
    assert is_overdue({"status": "sending", "overdue_at": "2020-01-01T00:00:00Z"})
    assert not is_overdue({"status": "sending", "overdue_at": "2999-01-01T00:00:00Z"})
    assert not is_overdue({"status": "sent"})
    assert not is_overdue({"status": "sending"})  # a record written before the index existed
