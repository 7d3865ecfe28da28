"""The whole path a city takes: real frames, COCO boxes, one epoch from a yaml, ONNX export, detection.

One epoch on eight frames teaches the network nothing; the point is that every step runs on
these offline machines and leaves a manifest the detector picks up.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path

import cv2
import pytest
import yaml
from typer.testing import CliRunner

from cli.main import app
from detector import Detections, Detector, DetectorConfig
from models.manifest import load_manifest, manifest_path_for, sha256_of
from tests.conftest import ASSETS, RESIDENTIAL
from training import TrainingError, build_pseudo_labelled_dataset, export, train, validate_dataset

CLIPS = [RESIDENTIAL, ASSETS / "video" / "stopline-motorcycles.mp4"]
LABELS = ["car", "person", "motorcycle", "truck"]
IMGSZ = 320


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory, detector: Detector) -> Path:
    """6 train + 2 val frames (3 + 1 per clip) at 320 px, boxes from the shared COCO model."""
    out = tmp_path_factory.mktemp("dataset")
    return build_pseudo_labelled_dataset(CLIPS, out, LABELS, frames_per_clip=4, detector=detector, max_side=IMGSZ)


def test_pseudo_labelled_dataset_is_a_valid_yolo_dataset(dataset: Path) -> None:
    summary = validate_dataset(dataset)
    assert summary.ok, summary.report()
    assert summary.warnings == []  # car, person, motorcycle and truck are all evidence labels
    assert summary.names == LABELS
    assert yaml.safe_load(dataset.read_text(encoding="utf-8"))["names"] == dict(enumerate(LABELS))
    assert (summary.splits["train"].images, summary.splits["val"].images) == (6, 2)
    # Parked cars on the residential street, riders at the stop line.
    assert summary.splits["train"].per_class.get("car", 0) >= 3
    assert summary.splits["train"].per_class.get("motorcycle", 0) + summary.splits["val"].per_class.get(
        "motorcycle", 0) >= 1
    image = cv2.imread(str(next((dataset.parent / "images" / "train").glob("*.jpg"))))
    assert max(image.shape[:2]) == IMGSZ


@pytest.fixture(scope="module")
def trained(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One epoch from the network's yaml (no float weights exist on these machines)."""
    started = time.monotonic()
    weights = train(dataset, model="yolov8n.yaml", epochs=1, imgsz=IMGSZ, batch=8, device="cpu",
                    out_dir=tmp_path_factory.mktemp("runs"), name="tiny")
    print(f"\none epoch at {IMGSZ} px on 6 train + 2 val images, start to manifest: {time.monotonic() - started:.1f} s")
    return weights


def test_one_epoch_from_yaml_leaves_weights_and_their_manifest(trained: Path, dataset: Path) -> None:
    assert trained.is_file() and trained.name in {"best.pt", "last.pt"}
    assert trained.parent.parent.name == "tiny" and trained.parent.name == "weights"
    manifest = load_manifest(manifest_path_for(trained))
    assert (manifest.name, manifest.file, manifest.format, manifest.imgsz) == ("tiny", trained.name, "pt", IMGSZ)
    assert manifest.labels == LABELS
    assert manifest.sha256 == sha256_of(trained)
    assert manifest.licence == "AGPL-3.0 (Ultralytics)"
    assert str(dataset.resolve()) in (manifest.source or "")


def test_onnx_export_has_a_manifest_and_runs_in_the_detector(trained: Path, dataset: Path) -> None:
    pytest.importorskip("onnx", reason="ONNX export needs the onnx package (add it to the project's dependencies)")
    started = time.monotonic()
    onnx_path = export(trained, "onnx", imgsz=IMGSZ)
    print(f"\nONNX export: {time.monotonic() - started:.1f} s")
    assert onnx_path == trained.with_suffix(".onnx") and onnx_path.is_file()
    exported = load_manifest(manifest_path_for(onnx_path))
    assert (exported.name, exported.format, exported.imgsz) == ("tiny-onnx", "onnx", IMGSZ)
    assert exported.file == onnx_path.name
    assert exported.labels == LABELS
    assert exported.sha256 == sha256_of(onnx_path)

    model = Detector(DetectorConfig(model=str(onnx_path), imgsz=IMGSZ))
    assert model.labels == set(LABELS)
    frame = cv2.imread(str(next((dataset.parent / "images" / "val").glob("*.jpg"))))
    [found] = model.detect([frame])  # one epoch finds little or nothing; the path is the point
    assert isinstance(found, Detections)
    assert set(found.labels.tolist()) <= set(LABELS)


def test_tensorrt_export_asks_for_a_gpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    monkeypatch.setattr("cli.train_command._show_ultralytics_progress", lambda: None)  # keep the suite quiet
    weights = tmp_path / "best.pt"
    weights.write_bytes(b"not loaded: the GPU check comes first")
    with pytest.raises(TrainingError, match="NVIDIA GPU with CUDA"):
        export(weights, "engine")
    result = CliRunner().invoke(app, ["export", str(weights), "--format", "engine"])
    assert result.exit_code == 2
    assert "NVIDIA GPU" in result.output


def test_missing_export_package_is_named_instead_of_pip_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = importlib.import_module("training.trainer")
    weights = tmp_path / "best.pt"
    weights.write_bytes(b"x")
    monkeypatch.setattr(module, "_has", lambda name: name != "openvino")
    with pytest.raises(TrainingError, match="pip install openvino"):
        export(weights, "openvino")
    with pytest.raises(TrainingError, match="unknown export format 'tflite'"):
        export(weights, "tflite")
