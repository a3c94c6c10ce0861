"""The fetch batch: groups in parallel, each group in order, failures hand back the rest of their group."""

import threading
import time

import pytest

from policywatch.fetch.archivist import FetchOutcome
from policywatch.fetch.fetcher import FetchError
from policywatch.fetch.jobs import DEADLINE_MARGIN_SECONDS, FINISH_SECONDS, run_batch


def _record(n: int, group: str) -> dict:
    return {"messageId": f"m{n}", "receiptHandle": "", "body": "{}", "attributes": {"MessageGroupId": group}}


def test_groups_run_in_parallel_and_each_group_in_order():
    first_of_each_group = threading.Barrier(3, timeout=10)  # breaks unless the three groups overlap
    order = []

    def work(record, deadline):
        order.append(record["messageId"])
        if record["messageId"] in ("m0", "m1", "m3"):
            first_of_each_group.wait()
        return FetchOutcome(record["messageId"], "unchanged")

    records = [_record(0, "a#0"), _record(1, "b#0"), _record(2, "a#0"), _record(3, "c#0")]
    report = run_batch(records, work, queue=None)
    assert report.failures == [] and len(report.outcomes) == 4
    assert order.index("m0") < order.index("m2")  # a#0's jobs one after the other


def test_a_failed_job_hands_back_the_rest_of_its_group_only():
    def work(record, deadline):
        if record["messageId"] == "m0":
            raise FetchError("https://a.example/", "HTTP 503", retryable=True)
        return FetchOutcome(record["messageId"], "unchanged")

    records = [_record(0, "a#0"), _record(1, "a#0"), _record(2, "b#0")]
    report = run_batch(records, work, queue=None)
    assert sorted(report.failures) == ["m0", "m1"]
    assert [o.document_key for o in report.outcomes] == ["m2"]


def test_jobs_are_not_started_past_the_invocations_deadline():
    started = []
    report = run_batch(
        [_record(0, "a#0")], lambda r, d: started.append(r) or FetchOutcome("x", "unchanged"), queue=None, deadline=0
    )
    assert report.failures == ["m0"] and started == []


def test_each_job_must_finish_its_fetch_in_time_to_record_it_before_the_invocation_ends():
    given = []
    report = run_batch(
        [_record(0, "a#0"), _record(1, "a#0")],
        lambda r, d: given.append(d) or FetchOutcome(r["messageId"], "unchanged"),
        queue=None,
        deadline=1000.0 + time.monotonic(),
    )
    assert report.failures == [] and len(given) == 2
    assert all(d == pytest.approx(1000.0 + time.monotonic() - FINISH_SECONDS, abs=5) for d in given)
    assert DEADLINE_MARGIN_SECONDS > FINISH_SECONDS  # a job that starts has time to fetch before its deadline


def test_a_job_is_not_started_without_time_to_fetch_and_record():
    started = []
    report = run_batch(
        [_record(0, "a#0")],
        lambda r, d: started.append(r) or FetchOutcome("x", "unchanged"),
        queue=None,
        deadline=time.monotonic() + DEADLINE_MARGIN_SECONDS - 1,
    )
    assert report.failures == ["m0"] and started == []
