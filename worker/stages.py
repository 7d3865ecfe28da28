"""Where a worker's CPU goes, stage by stage, so a slow camera count can be explained, not guessed.

The inference thread times its own stages with the thread's CPU clock (`time.thread_time`), which is
cheap (a clock read) and counts only the work of that thread: waiting for the GIL or a core costs
nothing. Decoding runs in the feed threads and the runtime's own thread pool does much of the
inference; their CPU is read per thread from the kernel (`thread_cpu_seconds`).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

# In the order a frame meets them after decoding.
STAGES = ("inference", "zone_readings", "tracking", "zones_rules", "publishing")


class StageClock:
    """CPU seconds per stage of one thread's work, a fixed set of counters that never grows.

    `snapshot` may be taken from another thread at any moment and includes the stage in progress up to
    then (read from the working thread's CPU clock), so a long call, a model's first load, does not
    land whole in whichever window it ends in.
    """

    def __init__(self) -> None:
        self.cpu_s: dict[str, float] = dict.fromkeys(STAGES, 0.0)
        self._lock = threading.Lock()
        self._current: tuple[str, int, float] | None = None  # stage, the thread's CPU clock, its reading at start

    @contextmanager
    def measure(self, stage: str) -> Iterator[None]:
        if stage not in self.cpu_s:
            raise ValueError(f"unknown stage {stage!r}; stages are {', '.join(STAGES)}")
        clock = time.pthread_getcpuclockid(threading.get_ident())
        started = time.clock_gettime(clock)
        with self._lock:
            self._current = (stage, clock, started)
        try:
            yield
        finally:
            with self._lock:
                self.cpu_s[stage] += time.clock_gettime(clock) - started
                self._current = None

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            found = dict(self.cpu_s)
            if self._current is not None:
                stage, clock, started = self._current
                found[stage] += time.clock_gettime(clock) - started
        return found


_TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def thread_cpu_seconds() -> dict[int, float]:
    """CPU seconds of every thread of this process by native id; empty where /proc is absent.

    Native threads that Python does not know (ONNX Runtime's or OpenVINO's pool) are included: the
    only way to count what an inference runtime spends outside the calling thread.
    """
    found: dict[int, float] = {}
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return found
    for tid in tids:
        seconds = _thread_cpu(tid)
        if seconds is not None:
            found[int(tid)] = seconds
    return found


def _thread_cpu(tid: str) -> float | None:
    """A thread's CPU in nanoseconds from `schedstat` (the scheduler's own sum, as `time.process_time` reads it),
    else in clock ticks from `stat` (10 ms each: summed over many threads, a short window's split would drift
    from the process's total); None when the thread ended meanwhile."""
    try:
        with open(f"/proc/self/task/{tid}/schedstat", encoding="ascii") as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(f"/proc/self/task/{tid}/stat", encoding="ascii") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # the name in parentheses may hold spaces
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_S  # utime, stime
