"""The stage clock and per-thread CPU that `bench pipeline` and the worker's metrics split a core with."""

from __future__ import annotations

import threading
import time

import pytest

from worker.stages import STAGES, StageClock, thread_cpu_seconds


def _spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_a_stage_counts_its_own_cpu_and_not_waiting() -> None:
    clock = StageClock()
    with clock.measure("tracking"):
        _spin(0.05)
    with clock.measure("publishing"):
        time.sleep(0.1)  # waiting costs no CPU
    spent = clock.snapshot()
    assert set(spent) == set(STAGES)
    assert 0.05 <= spent["tracking"] < 0.2
    assert spent["publishing"] < 0.02
    assert spent["inference"] == 0.0


def test_an_unknown_stage_is_refused_so_the_split_never_grows() -> None:
    with pytest.raises(ValueError, match="unknown stage"), StageClock().measure("decoding"):
        pass


def test_thread_cpu_is_read_per_thread_from_the_kernel() -> None:
    """The spinning thread runs until it is told to stop, so it is alive whenever it is read, however busy the
    machine; the reads wait on its CPU, not on the clock (the bound only ends a broken run)."""
    stop = threading.Event()

    def spin_until_stopped() -> None:
        while not stop.is_set():
            pass

    busy = threading.Thread(target=spin_until_stopped)
    busy.start()
    try:
        me = threading.get_native_id()
        started, during = time.monotonic(), thread_cpu_seconds()
        while during.get(busy.native_id, 0.0) < 0.1 and time.monotonic() - started < 60:
            time.sleep(0.01)
            during = thread_cpu_seconds()
        assert busy.native_id in during and me in during
        assert during[busy.native_id] >= 0.1
        before_main = during[me]
        own = time.thread_time()
        _spin(0.2)  # 0.2 s of this thread's own CPU, whatever the load
        after = thread_cpu_seconds()
        assert after[me] - before_main >= 0.15  # clock ticks are 10 ms
        assert after[me] - before_main <= time.thread_time() - own + 0.05  # the spinner's CPU is not counted here
        assert after[busy.native_id] >= during[busy.native_id]
    finally:
        stop.set()
        busy.join()
    # An ended thread is gone, not kept: the kernel drops its task a moment after join() returns, so wait for it.
    ended = time.monotonic()
    while busy.native_id in thread_cpu_seconds() and time.monotonic() - ended < 60:
        time.sleep(0.01)
    assert busy.native_id not in thread_cpu_seconds()


def test_a_snapshot_from_another_thread_includes_the_stage_in_progress() -> None:
    clock = StageClock()
    inside, release = threading.Event(), threading.Event()

    def work() -> None:
        with clock.measure("inference"):
            _spin(0.2)
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=work)
    worker.start()
    assert inside.wait(5)
    during = clock.snapshot()["inference"]
    release.set()
    worker.join()
    assert 0.2 <= during <= clock.snapshot()["inference"]
