"""Frames of the shared clips to paste on, with the boxes the project's detector finds in them.

Frames are read through the same `FileSource` a camera uses (PyAV, PTS time), spread evenly over
each clip. Every sampled frame is run once through `detector.Detector` (the configured COCO model):
its cars, people, two-wheelers and benches are where a bag must not be pasted, so no bag floats on
a car roof or covers a pedestrian.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import av
import cv2
import numpy as np

from detector import Detections
from streams import FileSource, SourceConfig
from training.synthesis.cutouts import assets_dir

OBSTACLE_CONFIDENCE = 0.3
Box = tuple[float, float, float, float]


class Detects(Protocol):
    """What the pool needs of a detector (`detector.Detector` fits)."""

    def detect(self, images: list[np.ndarray]) -> list[Detections]: ...


@dataclass(frozen=True)
class PoolFrame:
    """One sampled frame (at working size) and the normalised boxes of what the detector saw in it."""

    clip: str
    ts: float
    image: np.ndarray
    obstacles: tuple[Box, ...]


def clip_path(clip: str) -> Path:
    return assets_dir() / "video" / f"{clip}.mp4"


def duration_s(path: Path) -> float:
    with av.open(str(path)) as container:
        if container.duration:
            return float(container.duration) / 1_000_000
        stream = container.streams.video[0]
        return float(stream.duration * stream.time_base)


def sample_frames(path: Path, count: int, max_side: int | None = None) -> list[tuple[float, np.ndarray]]:
    """About `count` frames spread evenly over the clip, as (timestamp, BGR image)."""
    fps = min(60.0, count / max(duration_s(path), 1e-3))
    source = FileSource(path.stem, SourceConfig(url=str(path), analysis_fps=fps))
    frames = []
    for frame in source:
        if len(frames) >= count:
            break
        frames.append((frame.ts_s, shrink(frame.image, max_side)))
    if not frames:
        raise ValueError(f"no frames could be read from {path}")
    return frames


def shrink(image: np.ndarray, max_side: int | None) -> np.ndarray:
    height, width = image.shape[:2]
    if not max_side or max(height, width) <= max_side:
        return image
    scale = max_side / max(height, width)
    size = (round(width * scale) // 2 * 2, round(height * scale) // 2 * 2)
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def obstacles(detections: Detections, width: int, height: int) -> tuple[Box, ...]:
    keep = detections.confidence >= OBSTACLE_CONFIDENCE
    return tuple((float(b[0]) / width, float(b[1]) / height, float(b[2]) / width, float(b[3]) / height)
                 for b in detections.xyxy[keep])


def frame_pool(clip: str, count: int, detector: Detects, max_side: int | None) -> list[PoolFrame]:
    """`count` frames of `clip` with their obstacles, detected in small batches."""
    frames = sample_frames(clip_path(clip), count, max_side)
    pool: list[PoolFrame] = []
    for start in range(0, len(frames), 4):
        batch = frames[start:start + 4]
        for (ts, image), dets in zip(batch, detector.detect([im for _, im in batch]), strict=True):
            pool.append(PoolFrame(clip, ts, image, obstacles(dets, image.shape[1], image.shape[0])))
    return pool


def overlap(box: Box, other: Box) -> float:
    """Share of `box` covered by `other`."""
    w = min(box[2], other[2]) - max(box[0], other[0])
    h = min(box[3], other[3]) - max(box[1], other[1])
    area = (box[2] - box[0]) * (box[3] - box[1])
    return max(0.0, w) * max(0.0, h) / area if area > 0 else 0.0
