"""Bootstrap a YOLO-format dataset from real clips, boxes taken from an existing model.

Pseudo-labels are a starting point, not ground truth: a city corrects them in a labelling
tool (and adds its own classes) before training a model it relies on. Class names are the
evidence labels StreetWatch's rules read, so the trained model needs no label map.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import yaml

from detector import Detections
from streams import FileSource, Frame, SourceConfig
from training.validation import (
    DatasetSummary,
    SplitSummary,
    known_evidence_labels,
    validate_dataset,
)

log = logging.getLogger(__name__)

__all__ = [
    "DatasetSummary",
    "SplitSummary",
    "build_pseudo_labelled_dataset",
    "known_evidence_labels",
    "validate_dataset",
]

SPLITS = ("train", "val")


class _Detects(Protocol):
    """What the builder needs of a detector (`detector.Detector` fits)."""

    def detect(self, images: list[np.ndarray]) -> list[Detections]: ...


def build_pseudo_labelled_dataset(
    clips: list[Path],
    out: Path,
    labels: list[str],
    frames_per_clip: int,
    detector: _Detects,
    *,
    val_per_clip: int | None = None,
    min_confidence: float = 0.4,
    max_side: int | None = None,
) -> Path:
    """Write frames of `clips` and the detector's boxes for `labels` as a YOLO dataset; return data.yaml.

    Frames are spread evenly over each clip. The last `val_per_clip` frames of every clip
    (a quarter by default) go to `val`, so validation frames are later in time than the
    training frames of the same camera. `max_side` shrinks the saved images (boxes are
    normalised, so they stay right); `min_confidence` keeps weak guesses out of the labels.
    """
    labels = [label.strip() for label in labels if label.strip()]
    if not labels:
        raise ValueError("labels: give at least one class name (an evidence label such as car or garbage_bag)")
    if len(set(labels)) != len(labels):
        raise ValueError(f"labels: duplicate class names in {labels}")
    if frames_per_clip < 2:
        raise ValueError("frames_per_clip must be at least 2 (one for train, one for val)")
    n_val = val_per_clip if val_per_clip is not None else max(1, round(frames_per_clip / 4))
    if not 1 <= n_val < frames_per_clip:
        raise ValueError(f"val_per_clip must be between 1 and {frames_per_clip - 1}, not {n_val}")

    missing = [str(clip) for clip in clips if not Path(clip).is_file()]
    if missing or not clips:
        raise ValueError(f"clip(s) not found: {', '.join(missing)}" if missing else "give at least one clip")
    out = Path(out)
    for split in SPLITS:
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
    index = {label: i for i, label in enumerate(labels)}
    prefixes: set[str] = set()
    for clip in clips:
        prefix = _slug(Path(clip).stem)
        while prefix in prefixes:  # cam-1/clip.mp4 and cam-2/clip.mp4 must not overwrite each other
            prefix += "-b"
        prefixes.add(prefix)
        written = 0
        for k, frame in enumerate(_sample_frames(Path(clip), frames_per_clip)):
            split = "val" if k >= frames_per_clip - n_val else "train"
            detections = detector.detect([frame.image])[0]
            lines = _label_lines(detections, index, min_confidence, frame.width, frame.height)
            stem = f"{prefix}_{frame.seq:05d}"
            image = _shrink(frame.image, max_side)
            if not cv2.imwrite(str(out / "images" / split / f"{stem}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 95]):
                raise OSError(f"cannot write {out / 'images' / split / stem}.jpg")
            (out / "labels" / split / f"{stem}.txt").write_text("".join(lines), encoding="utf-8")
            written += 1
        if written < frames_per_clip:
            log.warning("%s: only %d of %d frames could be read", clip, written, frames_per_clip)
    return _write_data_yaml(out, labels)


def _sample_frames(clip: Path, count: int) -> Iterator[Frame]:
    """`count` frames spread evenly over the clip, read through the same source a camera uses."""
    duration = _duration_s(clip)
    fps = min(60.0, count / duration) if duration else 1.0
    source = FileSource(clip.stem, SourceConfig(url=str(clip), analysis_fps=fps))
    for taken, frame in enumerate(source):
        if taken >= count:
            return
        yield frame


def _duration_s(clip: Path) -> float | None:
    import av

    try:
        with av.open(str(clip)) as container:
            if container.duration:
                return float(container.duration) / 1_000_000
            stream = container.streams.video[0]
            if stream.duration and stream.time_base:
                return float(stream.duration * stream.time_base)
    except (OSError, IndexError, av.error.FFmpegError):
        return None
    return None


def _label_lines(
    detections: Detections, index: dict[str, int], min_confidence: float, width: int, height: int
) -> list[str]:
    """YOLO label lines (class x_centre y_centre width height, fractions of the image) for wanted boxes."""
    lines = []
    for box, confidence, label in zip(detections.xyxy, detections.confidence, detections.labels, strict=True):
        if label not in index or confidence < min_confidence:
            continue
        x1, x2 = np.clip([box[0], box[2]], 0, width)
        y1, y2 = np.clip([box[1], box[3]], 0, height)
        w, h = (x2 - x1) / width, (y2 - y1) / height
        if w <= 0 or h <= 0:
            continue
        cx, cy = (x1 + x2) / 2 / width, (y1 + y2) / 2 / height
        lines.append(f"{index[label]} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n")
    return lines


def _shrink(image: np.ndarray, max_side: int | None) -> np.ndarray:
    height, width = image.shape[:2]
    if not max_side or max(height, width) <= max_side:
        return image
    scale = max_side / max(height, width)
    return cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "clip"


def _write_data_yaml(out: Path, labels: list[str]) -> Path:
    """data.yaml without `path`: Ultralytics then takes the folder of the file as the root, so it can move."""
    data_yaml = out / "data.yaml"
    body = yaml.safe_dump(
        {"train": "images/train", "val": "images/val", "names": dict(enumerate(labels))},
        allow_unicode=True,
        sort_keys=False,
    )
    header = (
        "# Written by `streetwatch dataset`: boxes are an existing model's guesses (pseudo-labels).\n"
        "# Correct them in a labelling tool before training a model you rely on.\n"
    )
    data_yaml.write_text(header + body, encoding="utf-8")
    return data_yaml
