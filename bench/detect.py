"""Detection benchmark: `detector.Detector.detect` against raw `ultralytics.YOLO.predict` on the same frames.

The reference is Ultralytics itself, loaded from the same weights with the same settings (confidence,
IoU, image size, device), so the ratio ours / raw is what our wrapper adds (label mapping, turning
results into `Detections`). Batching is measured as one call of `batch` frames against `batch`
calls of one frame, for both. Frames come from a real clip at its own size, decoded once before
timing. Nothing is pinned: inference uses the threads its runtime picks, so both wall and CPU
milliseconds are kept; the ratios are taken on wall time, round by round, median over rounds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from bench.common import Machine, Stat, fmt_num, table
from detector import Detector, DetectorConfig
from models.loading import open_yolo
from models.registry import current_assets_dir
from streams import FileSource, SourceConfig

DEFAULT_DETECT_CLIP = "pedestrian-street-1080p.mp4"


class DetectVariant(BaseModel):
    name: str
    description: str
    calls_per_round: int
    wall_ms_per_frame: Stat
    cpu_ms_per_frame: Stat
    ratio_vs_raw_single: Stat  # wall per frame over raw single-frame predict's, round by round


class DetectReport(BaseModel):
    machine: Machine
    model: str
    imgsz: int | None
    device: str
    clip: str
    frame_size: str
    frames: int
    batch: int
    repeats: int
    variants: list[DetectVariant]
    boxes_raw: int  # boxes raw predict kept on all frames (every label)
    boxes_ours: int  # our Detections on the same frames (labels the evidence map drops left out)

    def variant(self, name: str) -> DetectVariant:
        return next(v for v in self.variants if v.name == name)

    @property
    def overhead_ratio(self) -> float:
        """Our single-frame detect over raw single-frame predict: 1.0 means no overhead."""
        return self.variant("ours-single").ratio_vs_raw_single.median

    @property
    def batch_ratio(self) -> float:
        """Our batched detect per frame over our single-frame detect per frame: below 1.0 batching pays."""
        single = self.variant("ours-single").wall_ms_per_frame.median
        return self.variant("ours-batch").wall_ms_per_frame.median / single


def default_detect_clip() -> Path:
    return current_assets_dir() / "video" / DEFAULT_DETECT_CLIP


def load_frames(clip: Path, count: int, fps: float = 2.0) -> list[np.ndarray]:
    """`count` BGR frames of a clip at `fps` of video time, cycled when the clip has fewer."""
    frames: list[np.ndarray] = []
    for frame in FileSource("bench", SourceConfig(url=str(clip), analysis_fps=fps)):
        frames.append(frame.image)
        if len(frames) == count:
            break
    if not frames:
        raise ValueError(f"{clip}: no frame decoded")
    return [frames[i % len(frames)] for i in range(count)]


def run_detect_bench(
    clip: Path | None = None,
    model: str | None = None,
    device: str = "cpu",
    frames: int = 8,
    batch: int = 4,
    repeats: int = 3,
    progress: Callable[[str], None] = lambda _msg: None,
) -> DetectReport:
    """Time raw predict and our detect, one frame per call and `batch` frames per call, `repeats` rounds."""

    if repeats < 1 or frames < 1 or batch < 1:
        raise ValueError("repeats, frames and batch must be at least 1")
    clip = Path(clip or default_detect_clip())
    images = load_frames(clip, frames)
    config = DetectorConfig(models=[model], device=device) if model else DetectorConfig(device=device)
    progress(f"loading {config.model}")
    ours = Detector(config)
    info = ours.models[0]
    raw = open_yolo(config.model, config.precision)
    kwargs: dict[str, Any] = {"conf": config.confidence, "iou": config.iou, "device": config.device, "verbose": False}
    if info.imgsz:
        kwargs["imgsz"] = info.imgsz
    batches = [images[i:i + batch] for i in range(0, len(images), batch)]

    variants: dict[str, tuple[str, int, Callable[[], object]]] = {
        "raw-single": ("YOLO.predict, one frame per call", len(images),
                       lambda: [raw.predict(img, **kwargs) for img in images]),
        "ours-single": ("Detector.detect, one frame per call", len(images),
                        lambda: [ours.detect([img]) for img in images]),
        "raw-batch": (f"YOLO.predict, {batch} frames per call", len(batches),
                      lambda: [raw.predict(b, **kwargs) for b in batches]),
        "ours-batch": (f"Detector.detect, {batch} frames per call", len(batches),
                       lambda: [ours.detect(b) for b in batches]),
    }
    progress("warming up")
    boxes_raw = sum(len(r.boxes) for img in images for r in raw.predict(img, **kwargs))
    boxes_ours = sum(len(d) for img in images for d in ours.detect([img]))
    raw.predict(batches[0], **kwargs)
    ours.detect(batches[0])

    wall: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    for round_ in range(repeats):
        progress(f"round {round_ + 1}/{repeats}")
        for name, (_, _, run) in variants.items():
            c0, w0 = time.process_time(), time.perf_counter()
            run()
            wall[name].append((time.perf_counter() - w0) * 1000 / len(images))
            cpu[name].append((time.process_time() - c0) * 1000 / len(images))
    reference = wall["raw-single"]
    results = [
        DetectVariant(
            name=name, description=description, calls_per_round=calls,
            wall_ms_per_frame=Stat.of(wall[name]), cpu_ms_per_frame=Stat.of(cpu[name]),
            ratio_vs_raw_single=Stat.of(w / r for w, r in zip(wall[name], reference, strict=True)),
        )
        for name, (description, calls, _) in variants.items()
    ]
    height, width = images[0].shape[:2]
    return DetectReport(
        machine=Machine.current(), model=config.model, imgsz=info.imgsz, device=config.device, clip=str(clip),
        frame_size=f"{width}x{height}", frames=len(images), batch=batch, repeats=repeats, variants=results,
        boxes_raw=boxes_raw, boxes_ours=boxes_ours,
    )


def render(report: DetectReport, markdown: bool = False) -> str:
    rows = [
        [v.name, v.description, str(v.calls_per_round), v.wall_ms_per_frame.fmt(1), v.cpu_ms_per_frame.fmt(1),
         v.ratio_vs_raw_single.fmt(2)]
        for v in report.variants
    ]
    return "\n".join([
        f"Machine: {report.machine.describe()}",
        f"Model {report.model} (imgsz {report.imgsz or '-'}, device {report.device}); {report.frames} frames "
        f"{report.frame_size} of {Path(report.clip).name}; {report.repeats} rounds, medians (lowest-highest)",
        "",
        table(["variant", "what", "calls/round", "wall ms/frame", "CPU ms/frame", "× raw single"], rows, markdown),
        "",
        f"Our overhead (ours-single / raw-single): {fmt_num(report.overhead_ratio)}; "
        f"batch of {report.batch} per frame / single per frame (ours): {fmt_num(report.batch_ratio)}; "
        f"boxes raw {report.boxes_raw}, ours {report.boxes_ours} (labels the evidence map drops left out)",
    ])
