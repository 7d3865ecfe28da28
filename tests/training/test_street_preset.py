"""The street preset's pieces that need no training: the joined data set and the shipped manifest."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from models.manifest import load_manifest
from training import validate_dataset
from training.street import LABEL_MAP, NAMES, build_dataset, manifest_text

NAMES_YAML = "names: {0: garbage, 1: garbage_bin, 2: overflow}\n"


def _fake_set(root: Path, files: dict[str, dict[str, str]], names: str = NAMES_YAML) -> Path:
    """A YOLO set: {split: {stem: label text}}, one tiny 'JPEG' per stem."""
    for split, stems in files.items():
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
        for stem, text in stems.items():
            (root / "images" / split / f"{stem}.jpg").write_bytes(b"\xff\xd8")
            (root / "labels" / split / f"{stem}.txt").write_text(text, encoding="utf-8")
    (root / "data.yaml").write_text("train: images/train\nval: images/val\n" + names, encoding="utf-8")
    return root


@pytest.fixture
def sources(tmp_path: Path) -> tuple[Path, Path]:
    bins = _fake_set(tmp_path / "street-bins-cn", {
        "train": {"b1": "2 0.5 0.5 0.2 0.3\n1 0.2 0.2 0.1 0.1\n", "b2": "0 0.4 0.6 0.1 0.1\n"},
        "val": {"b3": "1 0.5 0.5 0.3 0.3\n"},
    })
    synth = _fake_set(tmp_path / "synth", {
        "train": {"s1": "0 0.3 0.8 0.05 0.04\n", "s2": ""},  # s2: a negative, empty label file
        "val": {"s3": "0 0.6 0.7 0.03 0.03\n7 0.5 0.5 0.1 0.1\n"},  # class 7 is not ours: dropped
    })
    return bins, synth


def test_the_joined_set_keeps_class_ids_both_sources_and_disjoint_splits(tmp_path: Path, sources):
    bins, synth = sources
    data_yaml = build_dataset(bins, synth, tmp_path / "out")
    out = tmp_path / "out"
    assert yaml.safe_load(data_yaml.read_text(encoding="utf-8"))["names"] == NAMES
    train = {p.name for p in (out / "images/train").iterdir()}
    val = {p.name for p in (out / "images/val").iterdir()}
    assert train == {"bins-b1.jpg", "bins-b2.jpg", "synth-s1.jpg", "synth-s2.jpg"}
    assert val == {"bins-b3.jpg", "synth-s3.jpg"}
    assert not train & val
    assert (out / "images/train/bins-b1.jpg").is_symlink()
    assert (out / "images/train/bins-b1.jpg").resolve() == (bins / "images/train/b1.jpg").resolve()
    # class ids kept as they are in both sources (no remapping), a foreign id dropped, a negative kept empty
    assert (out / "labels/train/bins-b1.txt").read_text(encoding="utf-8") == "2 0.5 0.5 0.2 0.3\n1 0.2 0.2 0.1 0.1\n"
    assert (out / "labels/train/synth-s1.txt").read_text(encoding="utf-8") == "0 0.3 0.8 0.05 0.04\n"
    assert (out / "labels/val/synth-s3.txt").read_text(encoding="utf-8") == "0 0.6 0.7 0.03 0.03\n"
    assert (out / "labels/train/synth-s2.txt").read_text(encoding="utf-8") == ""
    summary = validate_dataset(data_yaml)
    assert summary.names == ["garbage", "garbage_bin", "overflow"]
    assert summary.splits["train"].images == 4 and summary.splits["val"].images == 2
    assert not summary.errors


def test_a_missing_synthetic_set_or_other_class_ids_are_refused(tmp_path: Path, sources):
    bins, _synth = sources
    with pytest.raises(FileNotFoundError, match="streetwatch synth"):
        build_dataset(bins, tmp_path / "nowhere", tmp_path / "out")
    other = _fake_set(tmp_path / "other", {"train": {"x": ""}, "val": {"y": ""}}, names="names: {0: garbage_bag}\n")
    with pytest.raises(ValueError, match="cannot train together"):
        build_dataset(bins, other, tmp_path / "out2")


def test_the_manifest_carries_the_figures_and_both_attributions(tmp_path: Path):
    weights = tmp_path / "w.onnx"
    weights.write_bytes(b"onnx")
    per_class = {
        "garbage": {"mAP50": 0.41, "mAP50-95": 0.2, "precision": 0.5, "recall": 0.4},
        "garbage_bin": {"mAP50": 0.62, "mAP50-95": 0.4, "precision": 0.6, "recall": 0.6},
        "overflow": {"mAP50": 0.53, "mAP50-95": 0.3, "precision": 0.5, "recall": 0.5},
    }
    report = {
        "commit": "abc123",
        "train_minutes": 25.0,
        "validation": {"mAP50": 0.52, "mAP50-95": 0.3, "precision": 0.55, "recall": 0.5, "per_class": per_class},
        "street_boxes": {
            "all": {"all": {"frames": 10, "boxes": 3, "per_frame": 0.3}},
            "frames": 10,
            "per_class_per_frame": {"garbage": 0.1, "garbage_bin": 0.15, "overflow": 0.05},
        },
        "synthetic_clips": {
            "clips": 10,
            "per_class": {
                "exposed_garbage": {"episodes": 6, "hits": 4, "false_alerts": 1, "f1": 0.7273},
                "overflowing_bin": {"episodes": 0, "hits": 0, "false_alerts": 2, "f1": None},  # no episode
            },
        },
        "preset": {"epochs": 6, "imgsz": 320, "freeze": 10, "threads": 2, "fraction": 1.0, "every": 10, "conf": 0.4},
    }
    path = tmp_path / "m.yaml"
    text = manifest_text(report, weights)
    path.write_text(text, encoding="utf-8")
    manifest = load_manifest(path)
    assert manifest.labels == ["garbage", "garbage_bin", "overflow"] and manifest.imgsz == 320
    assert manifest.label_map == LABEL_MAP and manifest.label_map["overflow"] == "overflowing_bin"
    assert manifest.metrics["garbage_mAP50"] == 0.41 and manifest.metrics["overflow_mAP50"] == 0.53
    assert manifest.metrics["garbage_bin_mAP50"] == 0.62 and manifest.metrics["street_boxes_per_frame"] == 0.3
    assert manifest.metrics["synthetic_clips_exposed_garbage_f1"] == 0.7273
    assert manifest.metrics["synthetic_clips_overflowing_bin_false_alerts"] == 2
    assert "synthetic_clips_overflowing_bin_f1" not in manifest.metrics  # undefined, not written as a number
    assert "project-shb1t" in manifest.licence and "公开数据集111" in manifest.licence
    assert "WoosongVision" in manifest.licence and "CC BY 4.0" in manifest.licence
    assert "project-shb1t" in manifest.source and "WoosongVision" in manifest.source and "abc123" in manifest.source
    assert "watermark" in manifest.description and "25.0 min" in manifest.description
    assert "F1 0.7273" in manifest.description
    assert manifest.file == "../weights/street-problems-yolov8n.onnx"
    assert "streetwatch train --preset street --ship" in text
