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
    busy = threading.Thread(target=_spin, args=(0.3,))
    busy.start()
    busy.join(0.05)
    during = thread_cpu_seconds()
    busy.join()
    assert busy.native_id in during and threading.get_native_id() in during
    before_main = during[threading.get_native_id()]
    _spin(0.2)
    after = thread_cpu_seconds()
    assert after[threading.get_native_id()] - before_main >= 0.15  # clock ticks are 10 ms
    assert busy.native_id not in after  # an ended thread is gone, not kept


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
