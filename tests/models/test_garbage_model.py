"""The shipped garbage-bag model, loaded as a second model through its manifest: finds bags, not street clutter."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
import yaml
from typer.testing import CliRunner

from cli.main import app
from models import load_manifest
from models.registry import PROJECT_ROOT
from tests.conftest import ASSETS, HIGHWAY, RESIDENTIAL
from training.agreement import clip_frames

MANIFEST = PROJECT_ROOT / "models" / "manifests" / "garbage-bag-yolov8n.yaml"
VALID = ASSETS / "datasets" / "trashbags" / "valid" / "images"
COCO_640 = ASSETS / "weights" / "yolov8n-coco-int8-640.onnx"


@pytest.fixture(scope="module")
def detector():  # type: ignore[no-untyped-def]
    from detector import Detector, DetectorConfig

    confidence = load_manifest(MANIFEST).metrics["conf"]
    return Detector(DetectorConfig(models=[{"manifest": str(MANIFEST), "confidence": confidence}]))


def test_the_manifest_names_its_file_data_and_figures():
    manifest = load_manifest(MANIFEST)
    assert manifest.labels == ["garbage_bag"] and manifest.format == "onnx" and manifest.imgsz == 320
    assert (
        MANIFEST.parent / manifest.file
    ).resolve() == PROJECT_ROOT / "models" / "weights" / "garbage-bag-yolov8n.onnx"
    assert "CC BY 4.0" in manifest.licence and "WoosongVision" in manifest.licence
    assert "streetwatch train --preset garbage" in manifest.source
    assert {"mAP50", "mAP50-95", "precision", "recall", "street_false_boxes_per_frame"} <= set(manifest.metrics)


def test_it_finds_bags_on_the_sets_own_valid_images(detector):  # type: ignore[no-untyped-def]
    images = [cv2.imread(str(p)) for p in sorted(VALID.glob("*.jpg"))[:8]]
    found = detector.detect(images)
    assert detector.models[0].origin == "manifest" and detector.labels == {"garbage_bag"}
    assert sum(1 for d in found if len(d)) >= 6, [len(d) for d in found]
    assert all(set(d.labels) <= {"garbage_bag"} for d in found)


def test_few_false_bags_on_street_frames(detector):  # type: ignore[no-untyped-def]
    frames = [f for clip in (RESIDENTIAL, HIGHWAY) for i, f in enumerate(clip_frames(clip, 60)) if i < 6]
    boxes = sum(len(d) for d in detector.detect(frames))
    assert boxes <= 3, f"{boxes} garbage bags on {len(frames)} street frames without any"


def test_coverage_lists_garbage_beside_coco(tmp_path: Path):
    config = tmp_path / "streetwatch.yaml"
    config.write_text(
        yaml.safe_dump({"detector": {"models": [{"path": str(COCO_640)}, {"manifest": "garbage-bag-yolov8n"}]}}),
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["models", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    garbage = next(c for c in report["classes"] if c["id"] == "exposed_garbage")
    assert garbage["coverage"] == "full"
    assert garbage["sources"] == [{"model": "garbage-bag-yolov8n", "primary": ["garbage_bag"], "proxy": []}]
    assert report["models"][0]["name"] == "yolov8n-coco-int8-640"  # the COCO model is untouched
    assert report["models"][1]["manifest"] == str(MANIFEST)  # a bare name is the shipped manifest


def test_boxes_inside_another_models_people_and_vehicles_are_dropped():
    import numpy as np

    from detector.detections import Detections
    from detector.yolo import _drop_inside, _Loaded

    bags = Detections(np.array([[10, 10, 20, 20], [100, 100, 120, 120]]), np.array([0.6, 0.7]), ["garbage_bag"] * 2)
    coco = Detections(np.array([[0, 0, 50, 50], [95, 95, 200, 200]]), np.array([0.9, 0.9]), ["person", "bench"])
    loaded = _Loaded(None, None, np.array(["garbage_bag"]), {}, frozenset({"person", "car"}), 0.5)  # type: ignore[arg-type]
    kept = _drop_inside(bags, [coco], loaded)
    assert kept.xyxy.tolist() == [[100, 100, 120, 120]]  # inside a person: dropped; inside a bench: kept
