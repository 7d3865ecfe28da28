"""The street-problem preset: rubbish on the ground, overflowing bins and bins, one model, one command.

`streetwatch train --preset street` joins two YOLO sets with the same class ids into one under var/
(images linked, label files written): the shared street-bins-cn photos (Chinese street bins and
rubbish, hand-held mostly) and the CCTV-like synthetic images of `streetwatch synth` (bags pasted onto
frames of the shared street clips, class 0). The synthetic set must exist first (`streetwatch synth
--out var/synth`): the preset does not make it itself, so a training run never silently regenerates
4 minutes of images with another recipe. It fine-tunes the float YOLOv8n rebuilt from the shared int8
export with its backbone frozen, exports ONNX and measures what a manifest should say: per-class
validation on the joined val split, boxes per frame on the shared street clips (none shows rubbish or
an overflowing bin) and per-class F1 of the whole pipeline on the synthetic test clips, beside COCO.

The pieces that the garbage preset already has (threads, commit, export, training) are reused from it.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from models.manifest import ModelManifest, sha256_of
from training.garbage import PROJECT_ROOT, fine_tune, git_commit, limit_threads

log = logging.getLogger(__name__)

NAME = "street-problems-yolov8n"
NAMES = {0: "garbage", 1: "garbage_bin", 2: "overflow"}
# Model label -> evidence label the rules read (zones/classes.py); '' drops the label (bins are context only).
LABEL_MAP = {"garbage": "garbage", "overflow": "overflowing_bin", "garbage_bin": ""}
BINS_DATASET = "datasets/street-bins-cn"
SYNTH_DIR = PROJECT_ROOT / "var" / "synth"
SOURCES = {"bins": "street-bins-cn", "synth": "synth"}  # file-name prefix -> source, so names never collide
SPLITS = ("train", "val")
ATTRIBUTION_BINS = (
    "Roboflow Universe project-shb1t, '公开数据集111' (CC BY 4.0; via ATANU0023/garbage_detection_dataset)"
)
ATTRIBUTION_BAGS = "WoosongVision, Roboflow Universe 'Trashbags - segmentation V1 + v2' (CC BY 4.0)"
COMMAND = "streetwatch train --preset street --ship"
DROP_INSIDE = ("person", "bicycle", "car", "motorcycle", "bus", "truck")
SHIP_WEIGHTS = PROJECT_ROOT / "models" / "weights" / f"{NAME}.onnx"
SHIP_MANIFEST = PROJECT_ROOT / "models" / "manifests" / f"{NAME}.yaml"


@dataclass
class StreetPreset:
    """What the preset trains with. The defaults are the shipped run's (see docs/models.md for its time)."""

    epochs: int = 6
    imgsz: int = 320
    batch: int = 16
    freeze: int = 10  # YOLOv8n's backbone is model.0 .. model.9
    threads: int = 2
    fraction: float = 1.0  # share of the joined train split used (Ultralytics `fraction`)
    every: int = 10  # street clips: every N-th frame for the box count
    conf: float = 0.4  # the operating point measured and advised
    seed: int = 0


def _label_lines(label: Path, n_classes: int) -> list[str]:
    """A YOLO detection label file's lines, checked: known class id, four coordinates in 0..1."""
    if not label.is_file():
        return []
    out = []
    for line in label.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) != 5 or not parts[0].isdigit() or int(parts[0]) >= n_classes:
            continue
        coords = [float(v) for v in parts[1:]]
        if not all(0.0 <= v <= 1.0 for v in coords) or coords[2] <= 0 or coords[3] <= 0:
            continue
        out.append(" ".join(parts))
    return out


def build_dataset(bins: Path, synth: Path, out: Path) -> Path:
    """One YOLO set from street-bins-cn and the synthetic CCTV set, class ids kept, splits kept apart."""
    hints = ((bins, "is STREETWATCH_ASSETS right?"), (synth, "run `streetwatch synth --out var/synth` first"))
    for source, hint in hints:
        if not (source / "data.yaml").is_file():
            raise FileNotFoundError(f"{source}: no data.yaml; {hint}")
        names = yaml.safe_load((source / "data.yaml").read_text(encoding="utf-8")).get("names")
        if isinstance(names, list):
            names = dict(enumerate(names))
        if {int(k): str(v) for k, v in (names or {}).items()} != NAMES:
            raise ValueError(f"{source}/data.yaml: names {names} are not {NAMES}; the sets cannot train together")
    counts: dict[str, dict[str, int]] = {}
    for prefix, source in (("bins", bins), ("synth", synth)):
        for split in SPLITS:
            images = source / "images" / split
            if not images.is_dir():
                raise FileNotFoundError(f"{images}: missing; both sets need {' and '.join(SPLITS)} splits")
            out_images, out_labels = out / "images" / split, out / "labels" / split
            out_images.mkdir(parents=True, exist_ok=True)
            out_labels.mkdir(parents=True, exist_ok=True)
            n = 0
            for image in sorted(images.iterdir()):
                if image.suffix.lower() not in (".jpg", ".jpeg", ".png", ".bmp", ".webp"):
                    continue
                stem = f"{prefix}-{image.stem}"
                link = out_images / f"{stem}{image.suffix}"
                if link.is_symlink() or link.exists():
                    link.unlink()
                link.symlink_to(image.resolve())
                lines = _label_lines(source / "labels" / split / f"{image.stem}.txt", len(NAMES))
                (out_labels / f"{stem}.txt").write_text("".join(f"{x}\n" for x in lines), encoding="utf-8")
                n += 1
            counts.setdefault(SOURCES[prefix], {})[split] = n
    data = {"train": "images/train", "val": "images/val", "names": NAMES}
    data_yaml = out / "data.yaml"
    data_yaml.write_text(
        f"# Joined by the street preset: {json.dumps(counts)}\n# {ATTRIBUTION_BINS}; synthetic bags from "
        f"{ATTRIBUTION_BAGS}\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    return data_yaml


def train_street(
    assets: Path, out_dir: Path, start: Path, preset: StreetPreset, ship: bool = False, synth: Path = SYNTH_DIR
) -> dict[str, Any]:
    """Join, fine-tune, export and measure; with `ship`, copy the ONNX and its manifest into models/."""
    limit_threads(preset.threads)
    commit = git_commit()
    data_yaml = build_dataset(assets / BINS_DATASET, synth, out_dir / "datasets" / NAME)
    onnx, minutes = fine_tune(data_yaml, start, preset, out_dir, NAME, fraction=preset.fraction)
    trained = {"commit": commit, "train_minutes": minutes, "preset": preset.__dict__}
    # Written before measuring, so --measure-only can measure again should a measure fail.
    (onnx.parent / "report.json").write_text(json.dumps(trained, indent=2), encoding="utf-8")
    trained.pop("preset")
    return measure(assets, onnx, data_yaml, preset, trained, ship, synth)


def measure(
    assets: Path,
    onnx: Path,
    data_yaml: Path,
    preset: StreetPreset,
    trained: dict[str, Any],
    ship: bool = False,
    synth: Path = SYNTH_DIR,
) -> dict[str, Any]:
    """Per-class validation, boxes per street frame, per-class F1 on the synthetic clips; report.json beside."""
    limit_threads(preset.threads)
    began = time.monotonic()
    report = {
        **trained,
        "onnx": str(onnx),
        "onnx_mb": round(onnx.stat().st_size / 2**20, 2),
        "validation": validation_per_class(onnx, data_yaml, preset.imgsz),
        "street_boxes": street_boxes(onnx, assets, preset.every, preset.conf, preset.imgsz),
        "synthetic_clips": synthetic_clip_f1(onnx, synth, preset.conf),
        "preset": preset.__dict__,
    }
    report["measure_minutes"] = round((time.monotonic() - began) / 60, 1)
    (onnx.parent / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    if ship:
        ship_model(onnx, report)
    return report


def measure_only(assets: Path, out_dir: Path, preset: StreetPreset, ship: bool = False) -> dict[str, Any]:
    """Measure the last trained model again without training it again."""
    onnx = out_dir / "train" / NAME / "weights" / "best.onnx"
    previous = onnx.parent / "report.json"
    if not onnx.is_file():
        raise FileNotFoundError(f"{onnx}: no trained model to measure; run the preset without --measure-only")
    trained: dict[str, Any] = {}
    if previous.is_file():
        old = json.loads(previous.read_text(encoding="utf-8"))
        trained = {k: v for k, v in old.items() if k in ("commit", "train_minutes")}
        preset = StreetPreset(**{**old.get("preset", {}), "every": preset.every, "conf": preset.conf})
    trained["measured_at"] = git_commit()
    data_yaml = out_dir / "datasets" / NAME / "data.yaml"
    return measure(assets, onnx, data_yaml, preset, trained, ship)


def validation_per_class(weights: Path, data_yaml: Path, imgsz: int) -> dict[str, Any]:
    """Ultralytics val on the joined val split: overall and per-class mAP50 (and P, R, mAP50-95)."""
    from ultralytics import YOLO

    metrics = YOLO(str(weights), task="detect").val(
        data=str(data_yaml), split="val", imgsz=imgsz, batch=1, device="cpu", plots=False, verbose=False, workers=0
    )
    box = metrics.box
    per_class: dict[str, dict[str, float]] = {}
    for i, cls in enumerate(box.ap_class_index):
        p, r, ap50, ap = box.class_result(i)
        per_class[NAMES[int(cls)]] = {
            "mAP50": round(float(ap50), 4),
            "mAP50-95": round(float(ap), 4),
            "precision": round(float(p), 4),
            "recall": round(float(r), 4),
            "instances": int(metrics.nt_per_class[int(cls)]) if hasattr(metrics, "nt_per_class") else None,
        }
    return {
        "mAP50": round(float(box.map50), 4),
        "mAP50-95": round(float(box.map), 4),
        "precision": round(float(box.mp), 4),
        "recall": round(float(box.mr), 4),
        "per_class": per_class,
    }


def street_boxes(weights: Path, assets: Path, every: int, conf: float, imgsz: int) -> dict[str, Any]:
    """Boxes per frame on the shared street clips: all of them (training.agreement.false_boxes) and per class.

    The clips show no rubbish and no overflowing bin, so `garbage` and `overflow` boxes are false;
    a `garbage_bin` box may be a real bin (the clips have some) and is dropped by the label map anyway.
    """
    from models.loading import open_yolo
    from training.agreement import STREET_CLIPS, false_boxes, predict, shared_frames

    model = open_yolo(str(weights))
    out: dict[str, Any] = {"all": false_boxes(model, assets, every, conf, imgsz)}
    frames, per_class = 0, dict.fromkeys(NAMES.values(), 0)
    by_clip: dict[str, dict[str, int]] = {}
    for clip, frame in shared_frames(assets, every, clips=list(STREET_CLIPS), images=False):
        _, classes, _ = predict(model, frame, conf, imgsz)
        frames += 1
        for c in classes:
            per_class[NAMES[int(c)]] += 1
            by_clip.setdefault(clip, dict.fromkeys(NAMES.values(), 0))[NAMES[int(c)]] += 1
    out["frames"] = frames
    out["per_class_per_frame"] = {k: round(v / frames, 4) if frames else 0.0 for k, v in per_class.items()}
    out["per_class_boxes"] = per_class
    out["by_clip"] = by_clip
    return out


def truth_variant(synth: Path, onnx: Path, conf: float) -> Path:
    """The synthetic clips' truth file with this model beside COCO (label-mapped, drop_inside), written beside it.

    Each zone also watches overflowing_bin, so an overflow box on the clips (which show no bin spilling
    over) counts as that class's false alert."""
    truth = yaml.safe_load((synth / "truth-clips.yaml").read_text(encoding="utf-8"))
    truth["detector"] = {
        "models": [
            {},
            {"path": str(onnx.resolve()), "label_map": LABEL_MAP, "confidence": conf, "drop_inside": list(DROP_INSIDE)},
        ]
    }
    for clip in truth.get("clips") or []:
        for zone in clip.get("zones") or []:
            classes = zone.setdefault("classes", [])
            if "overflowing_bin" not in classes:
                classes.append("overflowing_bin")
    path = synth / "truth-clips-street.yaml"
    path.write_text(
        "# Written by the street preset (training/street.py): truth-clips.yaml with the street model beside COCO.\n"
        + yaml.safe_dump(truth, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    return path


def synthetic_clip_f1(onnx: Path, synth: Path, conf: float) -> dict[str, Any]:
    """`streetwatch eval` on the synthetic test clips with the model beside COCO: counts and F1 per class."""
    from detector import Detector
    from evaluation import load_truth, run_clips, score_clip, summarise

    truth = load_truth(truth_variant(synth, onnx, conf))
    runs = run_clips(truth, Detector(truth.detector))
    summary = summarise([score_clip(run.scoring_input()) for run in runs])
    keys = ("episodes", "hits", "missed", "false_alerts", "precision", "recall", "f1")
    per_class = {str(cls): {k: v for k, v in c.as_dict().items() if k in keys} for cls, c in summary.classes.items()}
    overall = {k: v for k, v in summary.overall.as_dict().items() if k in keys}
    return {"clips": len(runs), "per_class": per_class, "overall": overall}


def ship_model(onnx: Path, report: dict[str, Any]) -> Path:
    """Copy the ONNX to models/weights/ and write its shipped manifest, figures in it, beside the others."""
    import shutil

    SHIP_WEIGHTS.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(onnx, SHIP_WEIGHTS)
    SHIP_MANIFEST.write_text(manifest_text(report, SHIP_WEIGHTS), encoding="utf-8")
    return SHIP_MANIFEST


def manifest_text(report: dict[str, Any], weights: Path) -> str:
    """The shipped manifest, its figures both in YAML comments (for people) and in `metrics` (for tools)."""
    v, street, clips, preset = report["validation"], report["street_boxes"], report["synthetic_clips"], report["preset"]
    metrics: dict[str, Any] = {k: v[k] for k in ("mAP50", "mAP50-95", "precision", "recall")}
    for name, c in v["per_class"].items():
        metrics[f"{name}_mAP50"] = c["mAP50"]
    metrics["street_boxes_per_frame"] = street["all"]["all"]["per_frame"]
    metrics["street_frames"] = street["frames"]
    for name, per_frame in street["per_class_per_frame"].items():
        metrics[f"street_{name}_boxes_per_frame"] = per_frame
    for cls, c in clips["per_class"].items():
        metrics[f"synthetic_clips_{cls}_f1"] = c["f1"]
        metrics[f"synthetic_clips_{cls}_false_alerts"] = c["false_alerts"]
    metrics["conf"] = preset["conf"]
    metrics = {k: x for k, x in metrics.items() if x is not None}  # F1 is undefined where nothing was raised or due
    per_class = "; ".join(
        f"{n} mAP50 {c['mAP50']} (P {c['precision']}, R {c['recall']})" for n, c in v["per_class"].items()
    )
    street_text = ", ".join(f"{n} {p}" for n, p in street["per_class_per_frame"].items())
    clip_text = "; ".join(
        f"{cls}: F1 {c['f1']}, {c['hits']}/{c['episodes']} episodes, {c['false_alerts']} false alerts"
        for cls, c in clips["per_class"].items()
    )
    fraction = f", {preset['fraction']:.0%} of the train split" if preset.get("fraction", 1.0) < 1.0 else ""
    manifest = ModelManifest(
        name=NAME,
        file=f"../weights/{NAME}.onnx",
        format="onnx",
        imgsz=preset["imgsz"],
        labels=[NAMES[i] for i in sorted(NAMES)],
        label_map=LABEL_MAP,
        sha256=sha256_of(weights),
        metrics=metrics,
        source=f"trained by `{COMMAND}` at commit {report['commit']}, from YOLOv8n rebuilt in float from the "
        f"shared yolov8n-coco-int8-640.onnx (streetwatch models rebuild); data: street-bins-cn, "
        f"{ATTRIBUTION_BINS}, and CCTV-like images of `streetwatch synth` with bags cut from {ATTRIBUTION_BAGS}",
        licence="AGPL-3.0 (Ultralytics weights); training data CC BY 4.0, attribute Roboflow Universe project-shb1t "
        "'公开数据集111' and WoosongVision, Roboflow Universe 'Trashbags - segmentation V1 + v2'",
        description=(
            f"Rubbish on the ground (garbage -> exposed_garbage), bins full to spilling (overflow -> "
            f"overflowing_bin) and bins as context (garbage_bin, dropped by the label map). {preset['epochs']} "
            f"epochs at {preset['imgsz']} px{fraction}, backbone frozen (model.0-{preset['freeze'] - 1}), "
            f"{preset['threads']} CPU threads, {report['train_minutes']} min. Joined val split (street-bins-cn "
            f"val and synthetic val): mAP50 {v['mAP50']}, mAP50-95 {v['mAP50-95']}; {per_class}. Boxes per frame "
            f"at conf {preset['conf']} on the shared street clips (every {preset['every']}th frame, "
            f"{street['frames']} frames, no rubbish or overflowing bin in them): {street_text}. Synthetic test "
            f"clips ({clips['clips']}, pasted bags, beside COCO with drop_inside): {clip_text}. Some "
            f"street-bins-cn photos carry other sites' watermarks, so the uploader may not hold every picture's "
            f"rights: check before relying on this model beyond experiments. Trained on hand-held photos and "
            f"synthetic frames, not real CCTV: check it on the city's own cameras. Opt-in, not the default."
        ),
    )
    body = yaml.safe_dump(
        manifest.model_dump(mode="json", exclude_none=True), allow_unicode=True, sort_keys=False, width=110
    )
    measured = f" and re-measured by --measure-only at {report['measured_at']}" if report.get("measured_at") else ""
    header = (
        f"# Shipped manifest: an opt-in second model beside COCO for exposed garbage and overflowing bins.\n"
        f"# Reproduce with `streetwatch synth --out var/synth` then\n#   {COMMAND}\n"
        f"# (code at commit {report['commit']}); figures measured by that command{measured}.\n"
        f"# Use: detector.models: [<COCO>, {{manifest: {NAME}, confidence: {preset['conf']}, "
        f"drop_inside: [{', '.join(DROP_INSIDE)}]}}]\n"
    )
    return header + body
