"""Synthetic CCTV-like detection images: bags pasted on the ground of sampled clip frames, then degraded.

Every image has its own generator seeded from (seed, split, index), so an image does not depend on
how many came before it and the same command writes the same bytes. About NEGATIVE_SHARE of the
images get nothing pasted and an empty label file: the street as it is, for the false positives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from training.synthesis.compose import blend, place
from training.synthesis.cutouts import Cutout
from training.synthesis.degrade import degrade
from training.synthesis.frames import Box, PoolFrame, overlap
from training.synthesis.ground import GROUND

GARBAGE = 0  # street-bins-cn's id for loose rubbish or bags on the ground
NEGATIVE_SHARE = 0.15
MAX_BAGS = 3
MIN_BAG_PX = 10  # below this a person could not label it either
JITTER = (0.8, 1.25)  # bag-to-bag size spread around the perspective rule
SPLIT_CODE = {"train": 1, "val": 2}
NIGHT_CLIPS = {"night-wet-square-240p"}  # already dark: no night variant on top
JPEG_QUALITY = 92


@dataclass
class ImageRecord:
    """What went into one image, for the manifest and the tests."""

    name: str
    clip: str
    frame_ts: float
    width: int
    height: int
    negative: bool
    bags: list[dict] = field(default_factory=list)
    variants: list[str] = field(default_factory=list)


def write_split(out: Path, split: str, count: int, clips: list[str], pools: dict[str, list[PoolFrame]],
                cutouts: list[Cutout], seed: int, advance: Callable[[], None] = lambda: None) -> list[ImageRecord]:
    """Write `count` images and label files of `split` under out/images and out/labels."""
    (out / "images" / split).mkdir(parents=True, exist_ok=True)
    (out / "labels" / split).mkdir(parents=True, exist_ok=True)
    records = []
    for index in range(count):
        rng = np.random.default_rng([seed, SPLIT_CODE[split], index])
        clip = clips[index % len(clips)]
        pool = pools[clip]
        negative = rng.random() < NEGATIVE_SHARE
        for _frame_try in range(6):  # a frame full of cars or riders may leave no room: take another
            frame = pool[int(rng.integers(len(pool)))]
            image, record = compose_image(frame, cutouts, rng, f"{clip}_{split}_{index:05d}", negative=negative)
            if negative or record.bags:
                break
        if not cv2.imwrite(str(out / "images" / split / f"{record.name}.jpg"), image,
                           [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
            raise OSError(f"cannot write {out / 'images' / split / record.name}.jpg")
        lines = "".join(_label_line(bag["box"]) for bag in record.bags)
        (out / "labels" / split / f"{record.name}.txt").write_text(lines, encoding="utf-8")
        records.append(record)
        advance()
    return records


def compose_image(frame: PoolFrame, cutouts: list[Cutout], rng: np.random.Generator, name: str,
                  negative: bool = False) -> tuple[np.ndarray, ImageRecord]:
    """Paste 1..MAX_BAGS bags on the frame's ground (none if `negative`), then degrade the whole frame."""
    image = frame.image.copy()
    height, width = image.shape[:2]
    record = ImageRecord(name, frame.clip, frame.ts, width, height, negative)
    wanted = 0 if negative else int(rng.integers(1, MAX_BAGS + 1))
    taken: list[Box] = []
    for _ in range(wanted):
        for _attempt in range(25):
            bag = _try_bag(image, frame, cutouts, rng, taken)
            if bag is not None:
                image, box, info = bag
                taken.append(box)
                record.bags.append(info)
                break
    image, record.variants = degrade(image, rng, allow_night=frame.clip not in NIGHT_CLIPS)
    return image, record


def _try_bag(image: np.ndarray, frame: PoolFrame, cutouts: list[Cutout], rng: np.random.Generator,
             taken: list[Box]) -> tuple[np.ndarray, Box, dict] | None:
    """One placement attempt: a ground point (or one beside the last bag: a pile), checked, then pasted."""
    ground = GROUND[frame.clip]
    height, width = image.shape[:2]
    if taken and rng.random() < 0.5:
        last = taken[-1]
        x = (last[0] + last[2]) / 2 + rng.uniform(-1.0, 1.0) * (last[2] - last[0])
        y = last[3] + rng.uniform(-0.3, 0.3) * (last[3] - last[1])
    else:
        x, y = ground.sample_point(rng)
    if not ground.contains(x, y):
        return None
    expected = ground.bag_height(y)
    height_px = expected * float(rng.uniform(*JITTER)) * height
    cutout = cutouts[int(rng.integers(len(cutouts)))]
    if height_px < MIN_BAG_PX:
        return None
    half_w = height_px * cutout.bgr.shape[1] / cutout.bgr.shape[0] / 2 / width
    rough = (x - half_w, y - height_px / height, x + half_w, y)
    if any(overlap(rough, other) > 0.05 for other in (*frame.obstacles, *ground.static)):
        return None
    if any(overlap(rough, other) > 0.4 or overlap(other, rough) > 0.4 for other in taken):
        return None
    placed = place(image, cutout, x * width, y * height, height_px, rng)
    if placed is None:
        return None
    x1, y1, x2, y2 = placed.box
    box = (x1 / width, y1 / height, x2 / width, y2 / height)
    info = {"box": box, "bottom_y": y, "expected_height": expected, "cutout": cutout.source,
            "blur_sigma": placed.blur_sigma}
    return blend(image, placed), box, info


def _label_line(box: Box) -> str:
    x1, y1, x2, y2 = (min(1.0, max(0.0, v)) for v in box)
    return f"{GARBAGE} {(x1 + x2) / 2:.6f} {(y1 + y2) / 2:.6f} {x2 - x1:.6f} {y2 - y1:.6f}\n"
