"""Two real models in one detector: their detections merge into one `Detections` with evidence labels."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from detector import Detector, DetectorConfig
from models import ModelManifest, save_manifest
from settings import ConfigError, load_config
from tests.conftest import ASSETS

COCO_640 = str(ASSETS / "weights" / "yolov8n-coco-int8-640.onnx")
COCO_320 = str(ASSETS / "weights" / "yolo11n-coco-int8-320.onnx")


@pytest.fixture(scope="module")
def bus() -> np.ndarray:
    image = cv2.imread(str(ASSETS / "images" / "bus.jpg"))
    assert image is not None
    return image


@pytest.fixture(scope="module")
def singles(bus: np.ndarray) -> dict[str, Counter[str]]:
    """Labels each model finds on its own, as the reference for the merged run."""
    return {path: Counter(Detector(DetectorConfig(model=path)).detect([bus])[0].labels.tolist())
            for path in (COCO_640, COCO_320)}


def test_merged_detections_hold_both_models_with_the_label_map(bus: np.ndarray, singles: dict[str, Counter[str]]):
    config = DetectorConfig.model_validate(
        {"models": [COCO_640, {"path": COCO_320, "label_map": {"bus": "motor_vehicle"}}]})
    detector = Detector(config)
    merged = detector.detect([bus, bus])
    first, second = singles[COCO_640], singles[COCO_320]
    assert first["bus"] == 1 and second["bus"] == 1  # both models see the bus in this image
    for detections in merged:
        found = Counter(detections.labels.tolist())
        assert len(detections) == first.total() + second.total()
        assert found["motor_vehicle"] == second["bus"]  # the second model's bus, mapped
        assert found["bus"] == first["bus"]  # the first model's bus, unmapped
        assert found["person"] == first["person"] + second["person"]
    assert "motor_vehicle" in detector.labels and "bus" in detector.labels
    assert [(m.name, m.imgsz, len(m.labels)) for m in detector.models] == [
        ("yolov8n-coco-int8-640", 640, 80), ("yolo11n-coco-int8-320", 320, 80)]
    assert "motor_vehicle" in detector.models[1].evidence_labels and "bus" not in detector.models[1].evidence_labels
    # What the coverage report reads without loading is what the loaded detector produces.
    described = config.describe_models(load=False)
    assert [m.evidence_labels for m in described] == [m.evidence_labels for m in detector.models]


def test_a_loaded_model_that_contradicts_its_manifest_keeps_its_own_labels(tmp_path: Path):
    manifest = save_manifest(ModelManifest(name="wrong", file=COCO_320, format="onnx", labels=["water"]),
                             tmp_path / "wrong.manifest.yaml")
    detector = Detector(DetectorConfig(models=[{"manifest": str(manifest)}]))
    info = detector.models[0]
    assert info.name == "wrong" and len(info.labels) == 80 and "standing_water" not in detector.labels
    assert any("differ" in w for w in info.warnings)


def test_a_label_mapped_to_nothing_is_dropped(bus: np.ndarray, singles: dict[str, Counter[str]]):
    config = DetectorConfig(models=[{"path": COCO_640}, {"path": COCO_320, "label_map": {"person": ""}}])
    found = Counter(Detector(config).detect([bus])[0].labels.tolist())
    assert found["person"] == singles[COCO_640]["person"]
    assert found.total() == singles[COCO_640].total() + singles[COCO_320].total() - singles[COCO_320]["person"]


def test_single_model_key_still_works():
    assert DetectorConfig.model_validate({"model": COCO_320}).models[0].path == COCO_320
    assert DetectorConfig().model == str(ASSETS / "weights" / "yolo11n-coco-int8-openvino")  # the shared default
    both = DetectorConfig.model_validate(
        {"model": COCO_320, "models": [{"path": COCO_640, "manifest": "city.yaml", "label_map": {"a": "b"}}, COCO_640]})
    first = both.models[0]
    assert (first.path, first.manifest, first.label_map) == (COCO_320, None, {"a": "b"})
    assert both.models[1].path == COCO_640


def test_environment_model_replaces_the_first_configured_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump({"detector": {"models": [COCO_640, {"path": COCO_640, "imgsz": 640}]}}))
    monkeypatch.setenv("STREETWATCH_MODEL", COCO_320)
    models = load_config(path).detector.models
    assert [m.path for m in models] == [COCO_320, COCO_640] and models[1].imgsz == 640


def test_bad_model_entries_are_configuration_errors(tmp_path: Path):
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump({"detector": {"models": [{"path": COCO_640, "confidence": 2}]}}))
    with pytest.raises(ConfigError, match=r"detector\.models\[0\]\.confidence"):
        load_config(path)
    path.write_text(yaml.safe_dump({"detector": {"models": []}}))
    with pytest.raises(ConfigError, match=r"detector\.models"):
        load_config(path)
