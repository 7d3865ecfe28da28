"""The float YOLOv8n rebuilt from the shared int8 export finds what the int8 model finds."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.conftest import ASSETS, RESIDENTIAL
from training.agreement import agreement, clip_frames, match
from training.rebuild import build_float_model, calibrate_batchnorm, read_onnx_weights, rebuild

INT8 = ASSETS / "weights" / "yolov8n-coco-int8-640.onnx"
BUS = ASSETS / "images" / "bus.jpg"


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    """bus.jpg and three frames of the residential clip (parked cars, people)."""
    clip = [f for i, f in enumerate(clip_frames(RESIDENTIAL, 200)) if i < 3]
    return [cv2.imread(str(BUS)), *clip]


def test_every_weight_is_read_dequantised():
    weights, meta = read_onnx_weights(INT8)
    first = weights["model.0.conv.weight"]
    assert first.shape == (16, 3, 3, 3) and first.dtype == np.float32
    assert 0 < np.abs(first).max() < 50  # real values, not the uint8 codes
    assert "'person'" in meta["names"]


def test_batchnorm_calibration_keeps_the_function(frames: list[np.ndarray]):
    import torch

    from training.agreement import letterbox

    model, _ = build_float_model(INT8)
    x = letterbox(frames[0], 320)
    with torch.no_grad():
        before = model(x)[0]
        assert calibrate_batchnorm(model, frames[1:], 320) == 3
        after = model(x)[0]
    bn = model.model[0].bn
    assert float(bn.running_mean.abs().max()) > 0.01  # real statistics now, not the identity's zeros
    assert torch.allclose(before, after, atol=1e-3, rtol=1e-4)


def test_rebuilt_model_agrees_with_int8(tmp_path: Path, frames: list[np.ndarray]):
    from ultralytics import YOLO

    out = rebuild(INT8, tmp_path / "yolov8n-float.pt", frames)
    float_model = YOLO(str(out))
    assert float_model.names[0] == "person" and len(float_model.names) == 80
    result = agreement(YOLO(str(INT8), task="detect"), float_model, (("f", f) for f in frames))
    assert result.boxes_a >= 10, result.summary()  # bus, people, parked cars
    # Float keeps every int8 box; it adds a few the int8 rounding pushed under the threshold.
    assert result.share_of_a >= 0.85 and result.share_of_b >= 0.75, result.summary()
    assert result.mean_iou >= 0.9, result.summary()


def test_matching_is_one_to_one_and_by_class():
    a = np.array([[0, 0, 10, 10], [20, 20, 30, 30]], dtype=float)
    b = np.array([[0, 0, 10, 11], [0, 0, 10, 10], [20, 20, 30, 30]], dtype=float)
    assert len(match(a, np.array([0, 1]), b, np.array([0, 0, 2]))) == 1  # one box per box; class 1 vs 2 differ


def test_rebuild_command_without_check(tmp_path: Path, frames: list[np.ndarray], monkeypatch: pytest.MonkeyPatch):
    # Calibrate on the fixture's frames: decoding every clip, as the command does, takes a minute.
    monkeypatch.setattr("training.agreement.shared_frames", lambda *_a, **_k: iter([("f", f) for f in frames]))
    out = tmp_path / "rebuilt.pt"
    result = CliRunner().invoke(app, ["models", "rebuild", "--out", str(out), "--check", "0"])
    assert result.exit_code == 0, result.output
    assert out.is_file() and "浮点模型 float model" in result.output
    bad = CliRunner().invoke(app, ["models", "rebuild", "--source", "pt"])
    assert bad.exit_code == 2 and "only onnx" in bad.output
