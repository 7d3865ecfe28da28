"""Garbage-bag cut-outs from the trashbags set's segmentation polygons, ready to paste.

Each polygon becomes one cut-out: the photo's pixels inside it with a feathered alpha edge, so a
pasted bag has no hard halo. The export letterboxed every photo with white padding (and the shear
augmentation left black wedges); pixels of those border-connected flat regions are removed from the
alpha, so no white strip is pasted onto a street. Train cut-outs come from the set's `train` split,
test cut-outs from `valid`; the 31 source photos Roboflow put in both splits are left out of train, so
no bag is seen in training and in the test material.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

TRASHBAGS = "datasets/trashbags"
ATTRIBUTION = 'WoosongVision, Roboflow Universe "Trashbags - segmentation V1 + v2" (CC BY 4.0)'
# Polygons smaller than this share of the 416 px photo are fragments (a corner of a bag behind others).
MIN_AREA_FRACTION = 0.012
MIN_SIDE_PX = 24
FEATHER_SIGMA_PX = 1.5


@dataclass(frozen=True)
class Cutout:
    """One bag: BGR pixels and an alpha in 0..1 of the same size, cropped tight to the alpha."""

    bgr: np.ndarray
    alpha: np.ndarray
    source: str  # the photo's source id (file name before Roboflow's `.rf.` hash)
    split: str


def assets_dir() -> Path:
    """The shared assets, as every other tool finds them."""
    return Path(os.environ.get("STREETWATCH_ASSETS", Path(__file__).resolve().parents[3] / "shared" / "assets"))


def source_id(image_name: str) -> str:
    """Roboflow names augmented copies `<source>_png.rf.<hash>.jpg`: the part before `.rf.` is the photo."""
    stem = image_name.split(".rf.")[0]
    return re.sub(r"_(png|jpg|jpeg)$", "", stem)


def split_sources(root: Path, split: str) -> set[str]:
    return {source_id(p.name) for p in (root / split / "images").glob("*.jpg")}


def load_cutouts(split: str, limit_images: int | None = None, root: Path | None = None) -> list[Cutout]:
    """Every usable polygon of `split` ('train' or 'valid'), in file order; deterministic."""
    root = root or assets_dir() / TRASHBAGS
    held_out = split_sources(root, "valid") if split == "train" else set()
    images = sorted((root / split / "images").glob("*.jpg"))
    if limit_images is not None:
        images = images[:limit_images]
    cutouts: list[Cutout] = []
    for path in images:
        source = source_id(path.name)
        if source in held_out:
            continue
        label = root / split / "labels" / f"{path.stem}.txt"
        if not label.is_file():
            continue
        image = cv2.imread(str(path))
        if image is None:
            continue
        padding = _padding_mask(image)
        for line in label.read_text(encoding="utf-8").splitlines():
            cutout = _cut(image, padding, line, source, split)
            if cutout is not None:
                cutouts.append(cutout)
    if not cutouts:
        raise ValueError(f"no usable bag polygons in {root / split}")
    return cutouts


def _padding_mask(image: np.ndarray) -> np.ndarray:
    """Near-white or near-black regions that touch the border: the export's padding, not the photo."""
    flat = ((image.min(axis=2) > 240) | (image.max(axis=2) < 12)).astype(np.uint8)
    _count, labels = cv2.connectedComponents(flat, connectivity=4)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    border = border[border > 0]
    return np.isin(labels, border)


def _cut_off(mask: np.ndarray, padding: np.ndarray) -> bool:
    """True when the polygon touches the photo's edge or its padding over more than a few pixels."""
    edge = np.zeros_like(padding)
    edge[:2], edge[-2:], edge[:, :2], edge[:, -2:] = True, True, True, True
    grown = cv2.dilate(mask, np.ones((5, 5), np.uint8)) > 0
    return int(np.count_nonzero(grown & (padding | edge))) > 12


def _cut(image: np.ndarray, padding: np.ndarray, line: str, source: str, split: str) -> Cutout | None:
    values = line.split()
    if len(values) < 7:
        return None
    height, width = image.shape[:2]
    points = np.asarray(values[1:], dtype=np.float64).reshape(-1, 2) * (width, height)
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 255)
    polygon_area = int(np.count_nonzero(mask))
    if _cut_off(mask, padding):
        return None  # the bag runs out of the photo: its straight cut edge would be pasted too
    mask[padding] = 0
    mask = cv2.erode(mask, np.ones((3, 3), np.uint8))
    kept = int(np.count_nonzero(mask))
    if polygon_area < MIN_AREA_FRACTION * width * height or kept < 0.8 * polygon_area:
        return None  # a fragment, or a polygon that ran into the padding
    ys, xs = np.nonzero(mask)
    x1, x2, y1, y2 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    if min(x2 - x1, y2 - y1) < MIN_SIDE_PX:
        return None
    pad = 3
    x1, y1 = max(0, x1 - pad), max(0, y1 - pad)
    x2, y2 = min(width, x2 + pad), min(height, y2 + pad)
    alpha = cv2.GaussianBlur(mask[y1:y2, x1:x2].astype(np.float32) / 255.0, (0, 0), FEATHER_SIGMA_PX)
    alpha[padding[y1:y2, x1:x2]] = 0.0
    return Cutout(np.ascontiguousarray(image[y1:y2, x1:x2]), alpha, source, split)
