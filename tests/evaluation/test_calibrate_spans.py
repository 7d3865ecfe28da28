"""Truth files may name spans of a clip known clear (`calibrate: [[t0, t1]]`): they load, are checked, and their
frames (the residential clip, the shared int8 segmenter) are learnt as every zone's clear level before the replay."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evaluation import runner
from evaluation.truth import load_truth
from settings import ConfigError
from tests.conftest import RESIDENTIAL
from worker.runner import CameraRun

ROAD = {"id": "road", "kind": "road", "classes": ["standing_water"],
        "polygon": [[0.0, 0.45], [1.0, 0.45], [1.0, 1.0], [0.0, 1.0]]}


def _truth(tmp_path: Path, **clip: object) -> Path:
    path = tmp_path / "truth.yaml"
    path.write_text(yaml.safe_dump({
        "scene": {"segmenter": {"variant": "ade20k32-int8", "threads": 1}, "every_n_frames": 1},
        "clips": [{"video": str(RESIDENTIAL), "analysis_fps": 0.5, "zones": [ROAD], **clip}]}))
    return path


def test_calibrate_spans_load_and_are_learnt_before_the_replay(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    truth = load_truth(_truth(tmp_path, calibrate=[[0, 8], [12, 16]]))
    clip = truth.clips[0]
    assert clip.calibrate == [(0.0, 8.0), (12.0, 16.0)]
    config = truth.worker_config(0)
    baseline = runner.calibration_baseline(clip, config, config.cameras[0])
    assert baseline is not None
    # the analysed frames: 1.9, 4.0, 5.9, 7.9 s in the first span; 12.5, 13.9, 15.9 s in the second
    assert baseline.sources("road", "water") == {"calibration": 7, "label": 0, "auto": 0}
    assert baseline.level("road", "water") is not None

    seen: list[object] = []

    def replay(config, camera, sink, evidence=None, detector=None, on_frame=None, baseline=None):  # type: ignore[no-untyped-def]
        seen.append(baseline)
        return CameraRun(camera.id)

    monkeypatch.setattr(runner, "replay", replay)
    runner.run_clips(truth, detector=object())  # type: ignore[arg-type]
    [applied] = seen
    assert applied is not None and applied.samples("road", "water") == baseline.samples("road", "water")

    plain = load_truth(_truth(tmp_path))
    assert runner.calibration_baseline(plain.clips[0], plain.worker_config(0), plain.worker_config(0).cameras[0]) \
        is None


@pytest.mark.parametrize(("calibrate", "expected"), [
    ([[5, 2]], "clips[0].calibrate: calibrate[0]: a span is [t0, t1] with 0 <= t0 < t1, got [5.0, 2.0]"),
    ([[0, 30]], "calibrate[0]: [0.0, 30.0] overlaps truth[0] (standing_water)"),
])
def test_bad_calibrate_spans_name_the_field(tmp_path: Path, calibrate: list[list[float]], expected: str) -> None:
    truth = [{"class": "standing_water", "zone": "road", "start_s": 20, "end_s": 40}]
    with pytest.raises(ConfigError) as error:
        load_truth(_truth(tmp_path, calibrate=calibrate, truth=truth))
    assert expected in str(error.value).replace("\n", " ")
