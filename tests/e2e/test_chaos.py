"""Faults on the deployed stack: stopped mid-sweep, a diff's worker killed, a fan-out to 1,000 subscribers killed.

Each scenario runs on what the one before left, on a MiniStack of this module's own (it restarts
the stack, which the session's shared one must not see), and asserts its counts: every version,
change and delivery there once, none twice (devstack/chaos.py, docs/chaos.md). ``make chaos`` runs
the same scenarios with the faults the other way round.

Policy texts: Open Terms Archive GenAI collection, ODC-By 1.0 (read from ../shared/corpus).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from devstack.chaos import ChaosError, Lab, Report, diff_scenario, fanout_scenario, sweep_scenario

SUBSCRIBERS = 1000


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Iterator[Lab]:
    lab = Lab(tmp_path_factory.mktemp("chaos"), say=print)
    try:
        lab.up()
        yield lab
    finally:
        lab.down()  # even when the build, the deploy or a scenario failed


def _run(scenario: Callable[[], Report]) -> None:
    try:
        report = scenario()
    except ChaosError as exc:
        pytest.fail(str(exc), pytrace=False)
    print(report.table())
    assert report.ok, "\n" + report.table()


def test_a_sweep_stopped_while_fetches_write_loses_no_version_and_archives_none_twice(lab):
    _run(lambda: sweep_scenario(lab, "stop"))


def test_a_diff_whose_worker_is_killed_records_and_publishes_its_change_once(lab):
    _run(lambda: diff_scenario(lab, "kill"))


def test_a_fan_out_killed_midway_delivers_each_alert_once(lab):
    _run(lambda: fanout_scenario(lab, "kill", SUBSCRIBERS))
