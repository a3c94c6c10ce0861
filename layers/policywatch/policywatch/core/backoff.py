"""Exponential backoff with jitter, shared by the fetcher's in-process retries and the delivery queue."""

from __future__ import annotations

import random
from dataclasses import dataclass

from policywatch.core.errors import ConfigError


@dataclass(frozen=True)
class RetryPolicy:
    """How a caller retries transient failures: a ``fetch`` call in-process, a delivery across queue jobs.

    The wait before retry ``n`` (1 for the first) is ``base_delay * 2 ** (n - 1)`` capped at
    ``max_delay``, minus up to ``jitter`` of itself at random; a server's ``Retry-After`` is
    honoured when it asks for longer. ``max_delay`` is the longest wait done in-process: a
    server asking for more ends the call with a retryable error instead.
    """

    attempts: int = 3
    base_delay: float = 1.0
    max_delay: float = 20.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ConfigError(f"RetryPolicy.attempts must be at least 1, not {self.attempts}")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ConfigError("RetryPolicy delays must not be negative")
        if not 0 <= self.jitter <= 1:
            raise ConfigError(f"RetryPolicy.jitter must be between 0 and 1, not {self.jitter}")

    def backoff(self, retry: int, rand: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first)."""
        delay = min(self.max_delay, self.base_delay * 2 ** (retry - 1))
        rand = random.random() if rand is None else rand  # noqa: S311 (jitter, not cryptography)
        return delay * (1 - self.jitter * rand)
