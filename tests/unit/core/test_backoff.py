"""Exponential backoff with jitter: doubling waits, capped, shortened at random by at most the jitter."""

from __future__ import annotations

import pytest

from policywatch.core.backoff import RetryPolicy
from policywatch.core.errors import ConfigError


def test_waits_double_from_the_base_delay_until_the_cap():
    policy = RetryPolicy(base_delay=1.0, max_delay=20.0, jitter=0)
    assert [policy.backoff(n) for n in range(1, 8)] == [1.0, 2.0, 4.0, 8.0, 16.0, 20.0, 20.0]


def test_jitter_takes_off_at_most_its_share_of_the_wait():
    policy = RetryPolicy(base_delay=2.0, jitter=0.5)
    assert policy.backoff(2, rand=0.0) == 4.0  # none taken off
    assert policy.backoff(2, rand=1.0) == 2.0  # half taken off
    assert policy.backoff(2, rand=0.25) == 3.5


def test_random_jitter_stays_within_its_bounds():
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0, jitter=0.3)
    waits = [policy.backoff(4) for _ in range(200)]  # 8 s capped to 5 s
    assert all(5.0 * 0.7 <= wait <= 5.0 for wait in waits)
    assert len(set(waits)) > 1  # jittered: retries of many clients spread out


def test_the_defaults_are_three_attempts_a_second_apart_doubling():
    policy = RetryPolicy()
    assert (policy.attempts, policy.base_delay, policy.max_delay, policy.jitter) == (3, 1.0, 20.0, 0.5)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"attempts": 0}, "RetryPolicy.attempts must be at least 1, not 0"),
        ({"base_delay": -1.0}, "RetryPolicy delays must not be negative"),
        ({"max_delay": -0.1}, "RetryPolicy delays must not be negative"),
        ({"jitter": 1.5}, "RetryPolicy.jitter must be between 0 and 1, not 1.5"),
        ({"jitter": -0.1}, "RetryPolicy.jitter must be between 0 and 1, not -0.1"),
    ],
)
def test_an_impossible_policy_is_refused_as_a_configuration_error(options, message):
    with pytest.raises(ConfigError) as refused:
        RetryPolicy(**options)
    assert str(refused.value) == message
