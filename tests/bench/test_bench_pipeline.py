"""`streetwatch bench pipeline` on a real clip, a real worker and real Redis, small: structure and invariants.

Times are never asserted; what must hold whatever the machine's load is the accounting: every CPU second of
the window lands in one stage, frames are conserved, and the throughput ratio is the ratio of its parts.
"""

from __future__ import annotations

import pytest

from bench.pipeline import SPLIT, PipelineRun, kept_up, next_count, render, run_pipeline_bench
from streams import FileSource, SourceConfig
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
    assert run.age_p50_ms is not None and run.age_p99_ms is not None
    assert 0 < run.age_p50_ms <= run.age_p99_ms
    assert report.carried == {"keyframes": 2 if run.keeps_up else 0}


def test_throughput_compares_the_worker_with_raw_predict_on_the_same_frames(report) -> None:  # type: ignore[no-untyped-def]
    (throughput,) = report.throughput
    # The worker's frames are the clip's key frames at the analysed rate, counted here by the source alone.
    key_frames = sum(1 for _ in FileSource("count", SourceConfig(url=str(CLIP), analysis_fps=1.0, decode="keyframes")))
    assert throughput.frames == key_frames
    assert throughput.ratio.low <= throughput.ratio.median <= throughput.ratio.high
    assert "Cameras one core carries" in render(report)


def test_a_window_keeps_up_only_with_nothing_dropped_everything_analysed_on_one_core() -> None:
    assert kept_up(offered=100, analysed=100, dropped=0, queued_before=4, core_share=0.8)
    assert kept_up(offered=100, analysed=96, dropped=0, queued_before=4, core_share=0.8)  # the queues' backlog
    assert not kept_up(offered=100, analysed=95, dropped=0, queued_before=4, core_share=0.8)
    assert not kept_up(offered=100, analysed=100, dropped=1, queued_before=4, core_share=0.8)
    assert kept_up(offered=100, analysed=100, dropped=0, queued_before=4, core_share=1.02)
    assert not kept_up(offered=100, analysed=100, dropped=0, queued_before=4, core_share=1.03)  # left the core
    assert kept_up(offered=100, analysed=100, dropped=0, queued_before=4, core_share=1.6, one_core=False)  # a GPU


def _run(cameras: int, keeps_up: bool, core_share: float) -> PipelineRun:
    return PipelineRun(decode="keyframes", cameras=cameras, window_s=30, offered=30 * cameras, analysed=30 * cameras,
                       dropped=0 if keeps_up else 5, events=0, max_queued=1, core_share=core_share,
                       cpu_ms_per_frame=100, split_ms=dict.fromkeys(SPLIT, 0.0), age_p50_ms=100, age_p99_ms=200,
                       keeps_up=keeps_up)


def test_the_camera_search_climbs_at_the_measured_cost_then_halves_the_gap() -> None:
    assert next_count([_run(2, True, 0.15)], 64) == 12  # 90% of the core at 7.5% a camera
    assert next_count([_run(2, True, 0.15), _run(12, False, 1.0)], 64) == 7
    assert next_count([_run(2, True, 0.15), _run(12, False, 1.0), _run(7, True, 0.7)], 64) == 9
    assert next_count([_run(8, True, 0.9), _run(9, False, 1.0)], 64) is None  # settled: 8 kept up, 9 did not
    assert next_count([_run(2, True, 0.95)], 64) == 3  # at least one more
    assert next_count([_run(4, False, 1.0)], 64) == 2 and next_count([_run(1, False, 1.0)], 64) is None
    assert next_count([_run(64, True, 0.5)], 64) is None
    assert next_count([_run(8, True, 0.3)], 512, one_core=False) == 16  # a GPU: the core is not the limit
