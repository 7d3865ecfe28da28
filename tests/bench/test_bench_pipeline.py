"""`streetwatch bench pipeline` on a real clip, a real worker and real Redis, small: structure and invariants.

Times are never asserted; what must hold whatever the machine's load is the accounting: every CPU second of
the window lands in one stage, frames are conserved, and the throughput ratio is the ratio of its parts.
"""

from __future__ import annotations

import pytest

from bench.pipeline import SPLIT, render, run_pipeline_bench
from tests.conftest import ASSETS, REDIS_URL

CLIP = ASSETS / "video" / "residential-street-parked-cars.mp4"


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    return run_pipeline_bench([CLIP], decode_modes=("keyframes",), cameras=[2], warmup_s=4, window_s=8, repeats=1,
                              redis_url=REDIS_URL)


def test_every_cpu_second_of_the_window_lands_in_one_stage(report) -> None:  # type: ignore[no-untyped-def]
    (run,) = report.runs
    assert run.decode == "keyframes" and run.cameras == 2 and run.window_s >= 8
    assert set(run.split_ms) == set(SPLIT)
    assert sum(run.split_ms.values()) == pytest.approx(run.cpu_ms_per_frame, rel=0.06)
    assert run.split_ms["inference"] > run.split_ms["tracking"] > 0
    assert run.split_ms["decode"] > 0 and run.split_ms["zones_rules"] > 0


def test_frames_are_conserved_and_latency_is_measured(report) -> None:  # type: ignore[no-untyped-def]
    (run,) = report.runs
    assert run.offered > 0 and run.analysed > 0
    assert run.analysed + run.dropped <= run.offered + 2 * 2  # at most the queues' contents from before the window
    assert run.keeps_up == (run.dropped == 0 and run.analysed >= run.offered - 2 * 2)
    assert run.age_p50_ms is not None and run.age_p99_ms is not None
    assert 0 < run.age_p50_ms <= run.age_p99_ms
    assert report.carried == {"keyframes": 2 if run.keeps_up else 0}


def test_throughput_compares_the_worker_with_raw_predict_on_the_same_frames(report) -> None:  # type: ignore[no-untyped-def]
    (throughput,) = report.throughput
    assert throughput.frames >= 20
    assert throughput.ratio.median == pytest.approx(throughput.pipeline_fps.median / throughput.raw_predict_fps.median)
    assert "Cameras one core carries" in render(report)
