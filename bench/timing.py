"""Timing shared by the benchmarks: the median of timed runs after one warm-up run."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(function: Callable[[], object], runs: int) -> float:
    function()  # warm: imports, compiled patterns, loaded data files
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
