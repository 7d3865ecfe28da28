"""The garbage preset's pieces that need no training: polygons to boxes, the converted set, its manifest."""

from __future__ import annotations

from pathlib import Path

import yaml

from models.manifest import load_manifest
from training import validate_dataset
from training.garbage import LABEL, convert_dataset, manifest_text, polygon_to_box


def test_a_polygon_becomes_its_bounding_box_clipped():
    assert polygon_to_box("1 0.2 0.3 0.6 0.3 0.6 0.9 0.2 0.9") == "0 0.400000 0.600000 0.400000 0.600000"
    assert polygon_to_box("0 -0.1 0.5 0.5 0.5 0.5 1.2") == "0 0.250000 0.750000 0.500000 0.500000"
    assert polygon_to_box("0 0.5 0.5") is None  # not a polygon
    assert polygon_to_box("0 0.5 0.5 0.5 0.5 0.5 0.5") is None  # no area


def test_the_converted_set_has_one_evidence_label_and_checks_clean(tmp_path: Path):
    source = tmp_path / "trashbags"
    for folder, stem, line in (
        ("train", "a", "0 0.1 0.1 0.5 0.1 0.5 0.5"),
        ("valid", "b", "1 0.2 0.2 0.8 0.2 0.8 0.9"),
    ):
        (source / folder / "images").mkdir(parents=True)
        (source / folder / "labels").mkdir(parents=True)
        (source / folder / "images" / f"{stem}.jpg").write_bytes(b"\xff\xd8")
        (source / folder / "labels" / f"{stem}.txt").write_text(line + "\n", encoding="utf-8")
    (source / "data.yaml").write_text("names: {0: general_trashbag, 1: other_trashbag}\n", encoding="utf-8")
    data_yaml = convert_dataset(source, tmp_path / "out")
    assert yaml.safe_load(data_yaml.read_text(encoding="utf-8"))["names"] == {0: LABEL}
    assert (tmp_path / "out/labels/val/b.txt").read_text(encoding="utf-8").startswith("0 0.500000 0.550000")
    assert (tmp_path / "out/images/train/a.jpg").is_symlink()
    summary = validate_dataset(data_yaml)
    assert summary.names == [LABEL] and summary.splits["train"].images == 1
    assert not summary.errors


def test_the_manifest_carries_the_figures(tmp_path: Path):
    weights = tmp_path / "w.onnx"
    weights.write_bytes(b"onnx")
    street = {
        "residential": {"frames": 10, "boxes": 1, "per_frame": 0.1},
        "all": {"frames": 10, "boxes": 1, "per_frame": 0.1},
    }
    report = {
        "commit": "abc123",
        "train_minutes": 30.0,
        "validation": {"mAP50": 0.8, "mAP50-95": 0.5, "precision": 0.8, "recall": 0.7},
        "street_false_boxes": street,
        "preset": {"epochs": 8, "imgsz": 320, "freeze": 10, "every": 10, "conf": 0.25},
    }
    path = tmp_path / "m.yaml"
    path.write_text(manifest_text(report, weights), encoding="utf-8")
    manifest = load_manifest(path)
    assert manifest.labels == [LABEL] and manifest.imgsz == 320 and manifest.metrics["mAP50"] == 0.8
    assert "CC BY 4.0" in manifest.licence and "WoosongVision" in manifest.source and "abc123" in manifest.source
    assert manifest.file == "../weights/garbage-bag-yolov8n.onnx"
