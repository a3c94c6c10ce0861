"""Delivery jobs (no AWS): what a job names, and what it vouches for."""

from __future__ import annotations

import json

import pytest

from policywatch.notify.jobs import DeliveryJobError, read_job


def test_jobs_name_their_first_attempt_and_what_they_vouch_for():
    body = {"change_id": "c", "subscriber_id": "s", "channel": "email", "record_key": "changes/x.json"}
    job = read_job(json.dumps(body))
    assert (job.attempt, job.after_failed) == (2, None)  # what the fan-out's jobs always were
    job = read_job(json.dumps({**body, "attempt": 1}))
    assert job.attempt == 1
    with pytest.raises(DeliveryJobError, match="attempt must be a positive integer, not '2'"):
        read_job(json.dumps({**body, "attempt": "2"}))
    with pytest.raises(DeliveryJobError, match="after_failed must be a positive integer, not True"):
        read_job(json.dumps({**body, "after_failed": True}))
    with pytest.raises(DeliveryJobError, match="ids must be non-empty strings"):
        read_job(json.dumps({**body, "channel": 7}))
    with pytest.raises(DeliveryJobError, match="not a delivery job"):
        read_job("[1, 2]")
