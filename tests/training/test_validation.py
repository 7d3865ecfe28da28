"""A city's labelled export is checked before training: every problem names its file and line."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from training import validate_dataset

DATA_YAML = """\
train: images/train
val: images/val
names:
  - car
  - garbage_bags
"""


def _dataset(root: Path, labels: dict[str, str]) -> Path:
    """A two-class dataset with one image per split and the given label file contents."""
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
        cv2.imwrite(str(root / "images" / split / "frame.jpg"), np.zeros((32, 48, 3), np.uint8))
        (root / "labels" / split / "frame.txt").write_text(labels.get(split, ""), encoding="utf-8")
    (root / "data.yaml").write_text(DATA_YAML, encoding="utf-8")
    return root / "data.yaml"


def test_bad_label_lines_are_reported_with_file_and_line(tmp_path: Path) -> None:
    data_yaml = _dataset(tmp_path, {
        "train": "0 0.5 0.5 0.2 0.2\n7 0.5 0.5 0.1 0.1\n1 1.25 0.5 0.1 0.1\n0 0.5 0.5 0.2\n",
        "val": "1 0.5 0.5 0.2 0.2\n",
    })
    summary = validate_dataset(data_yaml)
    assert not summary.ok
    label = tmp_path / "labels" / "train" / "frame.txt"
    assert f"{label}:2: class index 7 out of range 0..1 (2 names in data.yaml)" in summary.errors
    assert f"{label}:3: x_centre 1.25 outside 0..1 (coordinates are fractions of the image size)" in summary.errors
    assert f"{label}:4: expected 5 numbers (class x_centre y_centre width height), found 4" in summary.errors
    assert len(summary.errors) == 3
    # The good lines still count; the class name that no rule reads is a warning with its line and a hint.
    assert summary.splits["train"].boxes == 1 and summary.splits["val"].boxes == 1
    [warning] = summary.warnings
    assert warning.startswith(f"{data_yaml}:5: names[1]: 'garbage_bags' is not an evidence label")
    assert "did you mean 'garbage_bag'?" in warning and "standing_water" in warning


def test_missing_pieces_of_data_yaml_are_named(tmp_path: Path) -> None:
    (tmp_path / "data.yaml").write_text("train: images/train\n", encoding="utf-8")
    errors = validate_dataset(tmp_path).errors
    assert any(e.endswith("names: missing; list the evidence labels in index order, e.g. "
                          "names: [standing_water, garbage_bag]") for e in errors)
    assert any(": val: missing;" in e for e in errors)
    assert any("images/train" in e and "neither a folder of images nor a .txt list" in e for e in errors)
    missing = tmp_path / "nowhere.yaml"
    assert validate_dataset(missing).errors == [f"{missing}: dataset file not found"]


def test_train_check_prints_counts_and_exits_2_on_errors(tmp_path: Path) -> None:
    from cli.main import app

    good = _dataset(tmp_path / "good", {"train": "0 0.5 0.5 0.2 0.2\n"})
    result = CliRunner().invoke(app, ["train", str(good), "--check"])
    assert result.exit_code == 0, result.output
    assert "train: 1 images, 1 label files, 1 boxes, 0 without objects" in result.output
    assert "val: 1 images, 1 label files, 0 boxes, 1 without objects" in result.output

    bad = _dataset(tmp_path / "bad", {"train": "3 0.5 0.5 0.2 0.2\n"})
    result = CliRunner().invoke(app, ["train", str(bad), "--check"])
    assert result.exit_code == 2
    assert "frame.txt:1: class index 3 out of range 0..1" in result.output


def test_image_lists_are_read_the_way_ultralytics_reads_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CVAT writes train.txt; a line is read from the cwd unless it starts with ./ (the list's folder)."""
    data_yaml = _dataset(tmp_path / "cvat", {"train": "0 0.5 0.5 0.2 0.2\n"})
    root = data_yaml.parent
    (root / "train.txt").write_text("./images/train/frame.jpg\n", encoding="utf-8")
    (root / "val.txt").write_text("images/val/frame.jpg\n", encoding="utf-8")
    data_yaml.write_text(DATA_YAML.replace("images/train", "train.txt").replace("images/val", "val.txt"), "utf-8")

    monkeypatch.chdir(tmp_path)
    summary = validate_dataset(data_yaml)
    assert summary.splits["train"].images == 1 and summary.splits["train"].boxes == 1
    assert f"{root / 'val.txt'}:1: image images/val/frame.jpg not found (read from the current directory " \
           f"{tmp_path}; a line starting with ./ is read from the list's folder)" in summary.errors

    monkeypatch.chdir(root)
    summary = validate_dataset(data_yaml)
    assert summary.ok, summary.report()
    assert summary.splits["val"].images == 1
