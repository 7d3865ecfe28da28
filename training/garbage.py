"""The garbage-bag preset: one command from the shared trashbags set to a shipped second model.

`streetwatch train --preset garbage` converts the set's segmentation polygons to boxes under one
evidence label (`garbage_bag`, read by the exposed_garbage rule), fine-tunes the float YOLOv8n
rebuilt from the shared int8 export with its backbone frozen at 320 px on one CPU thread, exports
ONNX, and measures what a manifest should say: validation mAP on the set's own valid split and
false boxes per frame on the shared street clips, which show no garbage bag.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from models.manifest import ModelManifest, sha256_of

log = logging.getLogger(__name__)

LABEL = "garbage_bag"
NAME = "garbage-bag-yolov8n"
DATASET = "datasets/trashbags"
ATTRIBUTION = "WoosongVision, Roboflow Universe 'Trashbags - segmentation V1 + v2' (CC BY 4.0)"
COMMAND = "streetwatch train --preset garbage --ship"
SPLITS = {"train": "train", "val": "valid", "test": "test"}
# COCO labels whose boxes swallow this model's false boxes (measured: nine in ten of them lie on these).
DROP_INSIDE = ("person", "bicycle", "car", "motorcycle", "bus", "truck")
CONFS = (0.25, 0.4, 0.5)
PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHIP_WEIGHTS = PROJECT_ROOT / "models" / "weights" / f"{NAME}.onnx"
SHIP_MANIFEST = PROJECT_ROOT / "models" / "manifests" / f"{NAME}.yaml"


@dataclass
class GarbagePreset:
    """What the preset trains with; the defaults fit well under an hour on one CPU thread."""

    epochs: int = 8
    imgsz: int = 320
    batch: int = 16
    freeze: int = 10  # YOLOv8n's backbone is model.0 .. model.9
    threads: int = 1
    every: int = 10  # street clips: every N-th frame for the false-box count
    conf: float = 0.4  # the operating point the manifest advises (measured: see CONFS)
    seed: int = 0


def polygon_to_box(line: str) -> str | None:
    """A YOLO segmentation line `cls x1 y1 x2 y2 ...` as a detection line `0 xc yc w h` (clipped to 0..1)."""
    parts = line.split()
    if len(parts) < 7:  # class and at least three points
        return None
    xs = [min(max(float(v), 0.0), 1.0) for v in parts[1::2]]
    ys = [min(max(float(v), 0.0), 1.0) for v in parts[2::2]]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    if x1 - x0 <= 1e-4 or y1 - y0 <= 1e-4:
        return None
    return f"0 {(x0 + x1) / 2:.6f} {(y0 + y1) / 2:.6f} {x1 - x0:.6f} {y1 - y0:.6f}"


def convert_dataset(source: Path, out: Path) -> Path:
    """Boxes for every polygon, both trash-bag classes as `garbage_bag`; images linked, not copied."""
    if not (source / "data.yaml").is_file():
        raise FileNotFoundError(f"{source}: no data.yaml; is STREETWATCH_ASSETS right?")
    data: dict[str, Any] = {}
    for split, folder in SPLITS.items():
        images, labels = source / folder / "images", source / folder / "labels"
        if not images.is_dir():
            continue
        data[split] = f"images/{split}"
        out_images, out_labels = out / "images" / split, out / "labels" / split
        out_images.mkdir(parents=True, exist_ok=True)
        out_labels.mkdir(parents=True, exist_ok=True)
        for image in sorted(images.iterdir()):
            link = out_images / image.name
            if not link.exists():
                link.symlink_to(image.resolve())
            label = labels / f"{image.stem}.txt"
            lines = label.read_text(encoding="utf-8").splitlines() if label.is_file() else []
            boxes = [b for b in (polygon_to_box(line) for line in lines) if b]
            (out_labels / f"{image.stem}.txt").write_text("".join(f"{b}\n" for b in boxes), encoding="utf-8")
    data["names"] = {0: LABEL}
    data_yaml = out / "data.yaml"
    data_yaml.write_text(
        f"# Boxes from {source}'s polygons; {ATTRIBUTION}\n" + yaml.safe_dump(data, sort_keys=False), encoding="utf-8"
    )
    return data_yaml


def limit_threads(threads: int) -> None:
    """Keep torch and OpenCV to `threads` cores, so training leaves the others to the rest of the machine."""
    import cv2
    import torch

    os.environ["OMP_NUM_THREADS"] = str(threads)
    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)


def git_commit() -> str:
    """The commit the code was trained from, with '-dirty' when the work tree had changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def validation_figures(weights: Path, data_yaml: Path, imgsz: int) -> dict[str, float]:
    """mAP50, mAP50-95, precision and recall on the data set's own valid split."""
    from ultralytics import YOLO

    metrics = YOLO(str(weights), task="detect").val(
        data=str(data_yaml), split="val", imgsz=imgsz, batch=1, device="cpu", plots=False, verbose=False, workers=0
    )
    box = metrics.box
    return {
        "mAP50": round(float(box.map50), 4),
        "mAP50-95": round(float(box.map), 4),
        "precision": round(float(box.mp), 4),
        "recall": round(float(box.mr), 4),
    }


def train_garbage(
    assets: Path, out_dir: Path, start: Path, preset: GarbagePreset, ship: bool = False
) -> dict[str, Any]:
    """Convert, fine-tune, export and measure; with `ship`, copy the ONNX and its manifest into models/."""
    limit_threads(preset.threads)
    commit = git_commit()
    data_yaml = convert_dataset(assets / DATASET, out_dir / "datasets" / NAME)
    onnx, minutes = fine_tune(data_yaml, start, preset, out_dir, NAME)
    return measure(assets, onnx, data_yaml, preset, {"commit": commit, "train_minutes": minutes}, ship)


def fine_tune(data_yaml: Path, start: Path, preset: Any, out_dir: Path, name: str, **extra: Any) -> tuple[Path, float]:
    """A preset's training run on the CPU, backbone frozen, cached in RAM, then its ONNX export; the minutes it took.

    `preset` carries epochs, imgsz, batch, seed and freeze (every preset's dataclass does); `extra` goes to
    Ultralytics as it is (the street preset's `fraction`).
    """
    from training.trainer import export, train

    began = time.monotonic()
    best = train(
        data_yaml,
        model=str(start),
        epochs=preset.epochs,
        imgsz=preset.imgsz,
        batch=preset.batch,
        device="cpu",
        out_dir=out_dir / "train",
        name=name,
        seed=preset.seed,
        freeze=preset.freeze,
        cache="ram",
        patience=preset.epochs,
        **extra,
    )
    minutes = round((time.monotonic() - began) / 60, 1)
    return export(best, "onnx", imgsz=preset.imgsz), minutes


def measure(
    assets: Path, onnx: Path, data_yaml: Path, preset: GarbagePreset, trained: dict[str, Any], ship: bool = False
) -> dict[str, Any]:
    """The figures of a trained model, written to report.json beside it (and into the shipped manifest):
    validation on the set, false boxes on the street clips alone, and both again beside COCO with its
    person and vehicle boxes suppressing this model's (`drop_inside`)."""

    from models.loading import open_yolo
    from training.agreement import beside_coco, false_boxes

    limit_threads(preset.threads)
    figures = validation_figures(onnx, data_yaml, preset.imgsz)
    street = false_boxes(open_yolo(str(onnx)), assets, preset.every, preset.conf, preset.imgsz)
    coco = str(assets / "weights" / "yolov8n-coco-int8-640.onnx")
    combined = beside_coco(coco, str(onnx), assets, valid_truth(data_yaml), preset.every, CONFS, DROP_INSIDE)
    report = {
        **trained,
        "onnx": str(onnx),
        "onnx_mb": round(onnx.stat().st_size / 2**20, 2),
        "validation": figures,
        "street_false_boxes": street,
        "beside_coco": combined,
        "preset": preset.__dict__,
    }
    (onnx.parent / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    if ship:
        ship_model(onnx, report)
    return report


def measure_only(assets: Path, out_dir: Path, preset: GarbagePreset, ship: bool = False) -> dict[str, Any]:
    """Measure the last trained model again (after a change to the measures) without training it again."""
    onnx = out_dir / "train" / NAME / "weights" / "best.onnx"
    previous = onnx.parent / "report.json"
    if not onnx.is_file() or not previous.is_file():
        raise FileNotFoundError(f"{onnx}: no trained model to measure; run the preset without --measure-only")
    trained = {
        k: v for k, v in json.loads(previous.read_text(encoding="utf-8")).items() if k in ("commit", "train_minutes")
    }
    trained["measured_at"] = git_commit()
    data_yaml = out_dir / "datasets" / NAME / "data.yaml"
    return measure(assets, onnx, data_yaml, preset, trained, ship)


def valid_truth(data_yaml: Path) -> list[tuple[Any, Any]]:
    """(image, ground-truth xyxy in pixels) for every image of the converted set's val split."""
    import cv2
    import numpy as np

    root = data_yaml.parent
    out = []
    for image_path in sorted((root / "images" / "val").iterdir()):
        image = cv2.imread(str(image_path))
        h, w = image.shape[:2]
        text = (root / "labels" / "val" / f"{image_path.stem}.txt").read_text(encoding="utf-8")
        rows = np.array([line.split() for line in text.splitlines() if line.strip()], dtype=float).reshape(-1, 5)
        xc, yc, bw, bh = rows[:, 1] * w, rows[:, 2] * h, rows[:, 3] * w, rows[:, 4] * h
        out.append((image, np.stack([xc - bw / 2, yc - bh / 2, xc + bw / 2, yc + bh / 2], axis=1)))
    return out


def ship_model(onnx: Path, report: dict[str, Any]) -> Path:
    """Copy the ONNX to models/weights/ and write its shipped manifest, figures in it, beside the others."""
    import shutil

    SHIP_WEIGHTS.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(onnx, SHIP_WEIGHTS)
    SHIP_MANIFEST.write_text(manifest_text(report, SHIP_WEIGHTS), encoding="utf-8")
    return SHIP_MANIFEST


def manifest_text(report: dict[str, Any], weights: Path) -> str:
    """The shipped manifest, its figures both in YAML comments (for people) and in `metrics` (for tools)."""
    v, street, preset = report["validation"], report["street_false_boxes"], report["preset"]
    per_clip = ", ".join(f"{k} {s['per_frame']}" for k, s in street.items() if k != "all")
    beside = report.get("beside_coco", {})
    metrics = {
        **v,
        "street_false_boxes_per_frame": street["all"]["per_frame"],
        "street_frames": street["all"]["frames"],
        "conf": preset["conf"],
    }
    for conf, b in beside.items():
        metrics |= {
            f"beside_coco_conf{conf}_street_false_boxes_per_frame": b["street_per_frame"],
            f"beside_coco_conf{conf}_valid_precision": b["valid_precision"],
            f"beside_coco_conf{conf}_valid_recall": b["valid_recall"],
        }
    combined = "; ".join(
        f"conf {c}: {b['street_per_frame']} false boxes/frame, valid P {b['valid_precision']} R {b['valid_recall']}"
        for c, b in beside.items()
    )
    manifest = ModelManifest(
        name=NAME,
        file=f"../weights/{NAME}.onnx",
        format="onnx",
        imgsz=preset["imgsz"],
        labels=[LABEL],
        label_map={},
        sha256=sha256_of(weights),
        metrics=metrics,
        source=f"trained by `{COMMAND}` at commit {report['commit']}, from YOLOv8n rebuilt in float from "
        f"the shared yolov8n-coco-int8-640.onnx (streetwatch models rebuild); data: {ATTRIBUTION}",
        licence="AGPL-3.0 (Ultralytics weights); training data CC BY 4.0, attribute " + ATTRIBUTION,
        description=(
            f"Garbage bags (exposed_garbage evidence). {preset['epochs']} epochs at {preset['imgsz']} px, backbone "
            f"frozen (model.0-{preset['freeze'] - 1}), one CPU thread, {report['train_minutes']} min. Valid split "
            f"(190 images): mAP50 {v['mAP50']}, mAP50-95 {v['mAP50-95']}, precision {v['precision']}, recall "
            f"{v['recall']}. False boxes per frame at conf {preset['conf']} on the shared street clips (every "
            f"{preset['every']}th frame, {street['all']['frames']} frames, no garbage bags in them): "
            f"{street['all']['per_frame']} ({per_clip}); nine in ten of them lie on people and vehicles. Run "
            f"beside COCO with drop_inside: [{', '.join(DROP_INSIDE)}] (the same frames, COCO at the detector's "
            f"0.1): {combined}. Trained on close-up photos, not CCTV: check it on the city's own cameras."
        ),
    )
    body = yaml.safe_dump(
        manifest.model_dump(mode="json", exclude_none=True), allow_unicode=True, sort_keys=False, width=110
    )
    header = (
        f"# Shipped manifest: a second model beside COCO that sees garbage bags. Reproduce with\n"
        f"#   {COMMAND}\n# (code at commit {report['commit']}); figures measured by that command"
        f"{' and re-measured by --measure-only at ' + report['measured_at'] if report.get('measured_at') else ''}.\n"
        f"# Use: detector.models: [<COCO>, {{manifest: {NAME}, confidence: {preset['conf']}, "
        f"drop_inside: [{', '.join(DROP_INSIDE)}]}}]\n"
    )
    return header + body
