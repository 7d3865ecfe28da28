"""The benchmarks on real footage, one round: structure and invariants only, never a time threshold."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bench import run_decode_bench, run_detect_bench
from bench.decode import render as render_decode
from bench.detect import render as render_detect
from cli.bench_command import bench_command
from tests.conftest import ASSETS, RESIDENTIAL
from tests.helpers import require_tool

# 3.8 s of 1080p H.264 with a key frame every 0.48 s: the quickest clip where both modes analyse.
PEDESTRIAN = ASSETS / "video" / "pedestrian-street-1080p.mp4"
HAS_FFMPEG = shutil.which("ffmpeg") is not None  # required in CI: see test_ffmpeg_is_there_in_ci


@pytest.fixture(scope="module")
def decode_report():  # type: ignore[no-untyped-def]
    return run_decode_bench([PEDESTRIAN], repeats=1)


def test_decode_bench_measures_every_mode_of_the_clip(decode_report) -> None:  # type: ignore[no-untyped-def]
    (clip,) = decode_report.clips
    assert clip.clip.name == PEDESTRIAN.name
    assert (clip.clip.codec, clip.clip.width, clip.clip.height) == ("h264", 1920, 1080)
    assert clip.clip.key_frames == 8 and clip.clip.frames == 96
    assert clip.clip.key_interval_s == pytest.approx(0.48, abs=0.01)
    modes = {m.mode for m in clip.modes}
    assert {"pyav", "all", "keyframes", "every"} <= modes
    assert ({"ffmpeg", "ffmpeg-nokey"} <= modes) == HAS_FFMPEG
    assert decode_report.machine.ffmpeg is not None or not HAS_FFMPEG


def test_key_frame_mode_decodes_fewer_frames_for_the_same_analysis(decode_report) -> None:  # type: ignore[no-untyped-def]
    clip = decode_report.clips[0]
    full, keys, every = clip.mode("all"), clip.mode("keyframes"), clip.mode("every")
    assert full.frames_decoded == every.frames_decoded == clip.clip.frames
    assert keys.frames_decoded == clip.clip.key_frames < full.frames_decoded
    assert 0 < keys.frames_analysed <= full.frames_analysed
    assert full.decoded_per_analysed >= keys.decoded_per_analysed >= 1
    assert every.frames_analysed == every.frames_decoded and every.decoded_per_analysed == 1
    # At 1 analysed frame/s a 3.8 s clip gives 4 frames; key frames every 0.48 s give 2 decoded per analysed.
    assert full.frames_analysed == 4 and keys.decoded_per_analysed == 2


def test_figures_are_positive_and_ratios_come_from_the_same_run(decode_report) -> None:  # type: ignore[no-untyped-def]
    clip = decode_report.clips[0]
    for m in clip.modes:
        assert m.net_cpu_s.n == m.cpu_s.n == 1
        assert 0 < m.net_cpu_s.median < m.cpu_s.median  # the start-up was measured and taken off
        assert m.wall_s.median > 0
        # Per core means per CPU second, not per wall second: one pass's frames over its own net CPU.
        assert m.decode_fps_per_core == pytest.approx(m.frames_decoded / m.net_cpu_s.median)
        assert m.cameras_per_core == pytest.approx(clip.clip.video_s / m.net_cpu_s.median)
    # 8 key frames decoded cost less CPU than all 96, whatever else the machine runs (CPU time, not wall).
    assert clip.mode("keyframes").net_cpu_s.median < clip.mode("all").net_cpu_s.median
    if HAS_FFMPEG:
        # Each mode is set against the ffmpeg run doing the same decoding work, measured in this run.
        pairs = {"pyav": "ffmpeg", "all": "ffmpeg", "every": "ffmpeg", "keyframes": "ffmpeg-nokey"}
        full = clip.mode("ffmpeg")
        for name, reference in pairs.items():
            m, ref = clip.mode(name), clip.mode(reference)
            assert m.reference == reference
            if reference == "ffmpeg-nokey" and any("ignores -skip_frame" in n for n in ref.notes):
                assert m.ratio_vs_reference is None
            else:
                assert m.ratio_vs_reference == pytest.approx(m.decode_fps_per_core / ref.decode_fps_per_core)
            assert m.cost_vs_full_decode == pytest.approx(m.net_cpu_s.median / full.net_cpu_s.median)
    if HAS_FFMPEG:
        reference = clip.mode("ffmpeg")
        assert reference.frames_decoded == clip.clip.frames
        assert "-threads 1" in reference.command and reference.cost_vs_full_decode == 1
    assert clip.bgr_ms_per_frame is not None and clip.bgr_ms_per_frame.median > 0
    assert decode_report.pinned_cpu is None or isinstance(decode_report.pinned_cpu, int)


def test_decode_report_renders_and_round_trips(decode_report) -> None:  # type: ignore[no-untyped-def]
    text = render_decode(decode_report, markdown=True)
    assert "| pedestrian-street-1080p | keyframes |" in text
    again = type(decode_report).model_validate_json(decode_report.model_dump_json())
    assert again == decode_report


def test_bench_command_writes_json_and_markdown(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(bench_command)
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(
        app, ["decode", "--clip", str(PEDESTRIAN), "--repeats", "1", "--out", str(out), "--markdown"]
    )
    assert result.exit_code == 0, result.output
    assert "| clip | mode |" in result.output
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert [c["clip"]["name"] for c in figures["decode"]["clips"]] == [PEDESTRIAN.name]


def test_bench_command_rejects_unknown_benchmark_and_missing_clip(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(bench_command)
    assert CliRunner().invoke(app, ["encode"]).exit_code == 2
    assert CliRunner().invoke(app, ["decode", "--clip", str(tmp_path / "none.mp4")]).exit_code == 2


def test_detect_bench_compares_our_detector_with_raw_ultralytics() -> None:
    report = run_detect_bench(RESIDENTIAL, frames=4, batch=2, repeats=1)
    assert report.frames == 4 and report.frame_size == "640x360"
    names = [v.name for v in report.variants]
    assert names == ["raw-single", "ours-single", "raw-batch", "ours-batch"]
    assert report.variant("raw-single").calls_per_round == 4 and report.variant("ours-batch").calls_per_round == 2
    assert report.variant("raw-single").ratio_vs_raw_single.median == 1
    assert report.overhead_ratio > 0 and report.batch_ratio > 0
    # Parked cars are on every frame; ours keeps only labels the evidence map uses.
    assert 0 < report.boxes_ours <= report.boxes_raw
    assert "ours-single" in render_detect(report, markdown=True)


def test_ffmpeg_is_there_in_ci() -> None:
    """The decode benchmark's reference must not quietly vanish from CI."""
    require_tool("ffmpeg", "the decode benchmark's reference")


def test_runtimes_bench_puts_every_runtime_on_the_same_frames() -> None:
    from bench.runtimes import render as render_runtimes
    from bench.runtimes import run_runtimes_bench

    pytest.importorskip("openvino")
    report = run_runtimes_bench(RESIDENTIAL, frames=8, repeats=1)
    views = [(r.view, r.model, r.runtime, r.batch) for r in report.rows]
    assert ("predict", "yolo11n-int8-640", "openvino", 1) in views
    assert ("raw", "yolov8n-int8-640", "openvino", 1) in views  # the same ONNX file under both runtimes
    assert [r.batch for r in report.rows if r.view == "batch"] == [1, 2, 4, 8]
    for view in ("predict", "raw", "batch"):
        first = next(r for r in report.rows if r.view == view)
        assert first.cpu_vs_default.median == 1  # each view's ratios are to its first row
    assert all(r.cpu_ms_per_frame.median > 0 and r.cpu_vs_default.median > 0 for r in report.rows)
    # A batch is the same network on the same frames: the outputs must not change at all.
    assert report.batch_max_abs_diff == {1: 0.0, 2: 0.0, 4: 0.0, 8: 0.0}
    predicted = [r for r in report.rows if r.view == "predict"]
    assert all(r.cars and r.cars <= r.boxes for r in predicted)  # parked cars on every frame
    assert "| batch |" in render_runtimes(report, markdown=True)


def test_replay_bench_replays_the_same_clip_with_each_model() -> None:
    from bench.replay_cost import render as render_replay
    from bench.replay_cost import run_replay_cost

    clip = ASSETS / "video" / "night-wet-square-240p.mp4"
    model = str(ASSETS / "weights" / "yolo11n-coco-int8-320.onnx")
    report = run_replay_cost([model, model], clip, repeats=1)
    first, second = report.models
    assert first.frames == second.frames > 0 and first.episodes == second.episodes  # same model, same run
    assert first.cpu_vs_first.median == 1 and second.cpu_vs_first.median > 0
    assert "analysed frames" in render_replay(report, markdown=True)
