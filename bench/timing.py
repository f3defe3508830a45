"""How the bench scripts time things: one copy, so every figure they print is measured the same way.

A script run as `python bench/<name>.py` has bench/ on its path, so `from timing import ...` works
from any of them.
"""

import statistics
import time


def timed_calls(function, runs: int, warmups: int) -> tuple[list[float], list[float], object]:
    """Wall-clock and CPU milliseconds of `runs` calls after `warmups`, sorted, and the last result.

    CPU is this process's (every thread's: with the server in a thread, client and server both)."""
    for _ in range(warmups):
        function()
    timings, cpu = [], []
    result = None
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = function()
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    return sorted(timings), sorted(cpu), result


def median_ms(function, *, runs: int, warmups: int) -> tuple[float, object]:
    """Median milliseconds over `runs` after `warmups` untimed calls, and the last result."""
    timings, _cpu, result = timed_calls(function, runs, warmups)
    return statistics.median(timings), result


def timed_with_queries(function, runs: int) -> tuple[float, int, float]:
    """Median milliseconds over `runs` after one warm-up, the queries of one call, and the median CPU
    milliseconds of this process: on a busy machine a long request is preempted more often than the
    short baseline, which inflates the wall-clock ratio; the CPU ratio moves less."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    function()
    with CaptureQueriesContext(connection) as queries:
        function()
    timings, cpu, _result = timed_calls(function, runs, 0)
    return statistics.median(timings), len(queries.captured_queries), statistics.median(cpu)


class Stopwatch:
    """Wall-clock and CPU seconds of one `with` block, in `.seconds` and `.cpu_seconds` after it.

    CPU is this process's unless another clock is given: `time.thread_time` counts only the calling
    thread, leaving out a server or sink running in a thread of the same process."""

    def __init__(self, cpu_clock=time.process_time):
        self.cpu_clock = cpu_clock
        self.seconds = self.cpu_seconds = 0.0

    def __enter__(self) -> "Stopwatch":
        self._started, self._cpu_started = time.perf_counter(), self.cpu_clock()
        return self

    def __exit__(self, *exc_info) -> None:
        self.seconds = time.perf_counter() - self._started
        self.cpu_seconds = self.cpu_clock() - self._cpu_started
