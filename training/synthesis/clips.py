"""Held-apart test clips: a still camera on a test clip's street where a bag is dropped at t0 and stays.

A test clip is short (a few seconds), so its sampled frames are played back and forth (ping-pong) at
`fps` until the clip is `seconds` long: people walk to and fro, the street stays the same camera. A
bag clip pastes one bag from t0 on, at the same place with the same pixels in every frame; each
frame gets its own sensor noise, as a camera's frames do. A negative clip is the same without the
bag. The place is the ground point (of 40 candidates) that the detector's people and vehicles cover
in the fewest sampled frames, so the bag is rarely drawn over a passer-by (it is pasted on top of
anyone who does walk over it: a limitation of pasting without depth).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from training.synthesis.compose import Placed, blend, place
from training.synthesis.cutouts import Cutout
from training.synthesis.degrade import sensor_noise
from training.synthesis.frames import Box, Detects, clip_path, duration_s, obstacles, overlap, sample_frames
from training.synthesis.ground import GROUND, ClipGround

CLIP_FPS = 5
NOISE_SIGMA = 2.5
ZONE_MARGIN = 1.5  # the zone reaches this many bag sizes beyond the bag on every side


@dataclass(frozen=True)
class TestClip:
    """One written clip and what its truth row needs."""

    path: Path
    source: str
    seconds: float
    frames: int
    fps: int
    t0: float | None  # None: a negative, nothing dropped
    zone: list[tuple[float, float]]
    at: tuple[float, float] | None
    cutout: str | None


def make_clip(path: Path, source: str, cutouts: list[Cutout] | None, rng: np.random.Generator,
              detector: Detects, seconds: float, fps: int = CLIP_FPS) -> TestClip:
    """Write one H.264 MP4 at the source's resolution; with `cutouts` a bag appears at a random t0."""
    ground = GROUND[source]
    video = clip_path(source)
    with av.open(str(video)) as container:
        native = float(container.streams.video[0].average_rate or 25)
    duration = duration_s(video)
    frames = [image for _, image in sample_frames(video, max(2, round(duration * min(fps, native))))]
    height, width = frames[0].shape[:2]
    seen: list[tuple[Box, ...]] = []
    for start in range(0, len(frames), 4):
        batch = frames[start:start + 4]
        seen.extend(obstacles(d, width, height) for d in detector.detect(batch))
    x, y, bag_h = _quiet_spot(ground, seen, rng)
    count = round(seconds * fps)
    order = _ping_pong(len(frames), count)
    t0: float | None = None
    placed: Placed | None = None
    cutout_name = None
    if cutouts:
        t0 = round(float(rng.uniform(0.25, 0.4)) * seconds, 2)
        cutout = cutouts[int(rng.integers(len(cutouts)))]
        cutout_name = cutout.source
        first = frames[order[min(count - 1, int(np.ceil(t0 * fps)))]]
        placed = place(first, cutout, x * width, y * height, bag_h * height, rng)
        if placed is None:
            raise ValueError(f"{source}: the bag at ({x:.2f}, {y:.2f}) does not fit the frame")
    box = placed.box if placed else (round((x - bag_h / 2) * width), round((y - bag_h) * height),
                                     round((x + bag_h / 2) * width), round(y * height))
    zone = _zone(box, width, height)
    at = (((box[0] + box[2]) / 2 / width), ((box[1] + box[3]) / 2 / height)) if placed else None
    _encode(path, frames, order, fps, placed, t0, rng)
    return TestClip(path, source, count / fps, count, fps, t0, zone,
                    (round(at[0], 4), round(at[1], 4)) if at else None, cutout_name)


def _quiet_spot(ground: ClipGround, seen: list[tuple[Box, ...]],
                rng: np.random.Generator) -> tuple[float, float, float]:
    """The candidate ground point whose bag box the detector's objects cover in the fewest frames."""
    best: tuple[int, float, float, float] | None = None
    for _ in range(40):
        x, y = ground.sample_point(rng)
        h = ground.bag_height(y)
        box = (x - h / 2, y - h, x + h / 2, y)
        if box[0] < 0.01 or box[2] > 0.99 or box[1] < 0.01 or box[3] > 0.99:
            continue
        if any(overlap(box, s) > 0.05 for s in ground.static):
            continue
        busy = sum(any(overlap(box, o) > 0.05 for o in frame) for frame in seen)
        if best is None or busy < best[0]:
            best = (busy, x, y, h)
    if best is None:
        raise ValueError(f"{ground.clip}: no place for a bag inside the frame")
    return best[1], best[2], best[3]


def _ping_pong(n: int, count: int) -> list[int]:
    cycle = list(range(n)) + list(range(n - 2, 0, -1)) if n > 2 else list(range(n))
    return [cycle[i % len(cycle)] for i in range(count)]


def _zone(box: tuple[int, int, int, int], width: int, height: int) -> list[tuple[float, float]]:
    """A rectangle around the bag's ground, normalised and kept inside the frame."""
    x1, y1, x2, y2 = box
    size = max(x2 - x1, y2 - y1)
    margin = ZONE_MARGIN * size
    zx1, zy1 = max(0.0, (x1 - margin) / width), max(0.0, (y1 - margin) / height)
    zx2, zy2 = min(1.0, (x2 + margin) / width), min(1.0, (y2 + margin) / height)
    return [(round(zx1, 4), round(zy1, 4)), (round(zx2, 4), round(zy1, 4)), (round(zx2, 4), round(zy2, 4)),
            (round(zx1, 4), round(zy2, 4))]


def _encode(path: Path, frames: list[np.ndarray], order: list[int], fps: int, placed: Placed | None,
            t0: float | None, rng: np.random.Generator) -> None:
    height, width = frames[0].shape[:2]
    noise_seed = int(rng.integers(2**31))
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "23", "preset": "veryfast"}
        for j, source_index in enumerate(order):
            image = frames[source_index]
            if placed is not None and t0 is not None and j / fps >= t0:
                image = blend(image, placed)
            image = sensor_noise(image, np.random.default_rng([noise_seed, j]), NOISE_SIGMA)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = j
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
