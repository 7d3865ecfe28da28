"""A second look at small, far zones: the zone's crop at native resolution, its boxes merged back into the frame.

The whole-frame pass shrinks a 1080p frame to the model's 640 (or 320) pixels, so a bin area across the
road or a far kerb becomes a few dozen pixels and the bags, stools and umbrellas in it vanish. A zone
whose bounds cover few of the model's pixels gets its own crop (the zone's bounds and a margin, at the
camera's native resolution, which the model then scales up to its input), run in the same batch as the
frames. Boxes cut by a crop's edge are dropped (the whole-frame pass or a neighbour sees that object
whole) and overlapping boxes of one label are merged, keeping the higher score.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from detector.detections import Detections

Bounds = tuple[float, float, float, float]  # normalised x1, y1, x2, y2


class CropConfig(BaseModel):
    """When a zone gets a second look, and how much of the camera's time it may take."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Small zones watching scene problems get their own crop.")
    min_model_pixels: int = Field(
        160, ge=16, le=4096,
        description="A zone whose bounds span fewer of the model's input pixels than this (its longer side, "
        "after the frame is scaled to the model's size) is looked at again on its own crop.",
    )
    margin: float = Field(0.15, ge=0.0, le=1.0, description="Context around the zone, as a share of its size.")
    max_upscale: float = Field(
        4.0, ge=1.0, le=16.0,
        description="The crop is never smaller than the model's input divided by this: more would only "
        "magnify blur.",
    )
    max_crops: int = Field(4, ge=1, le=16, description="Crops per camera and frame, the smallest zones first.")
    edge_px: float = Field(2.0, ge=0.0, description="A box this close to a crop's inner edge was cut: dropped.")
    merge_iou: float = Field(0.5, gt=0.0, le=1.0, description="Overlap at which two boxes of one label merge.")


@dataclass(frozen=True)
class Crop:
    """One zone's crop in frame pixels."""

    zone_id: str
    x1: int
    y1: int
    x2: int
    y2: int

    def cut(self, image: np.ndarray) -> np.ndarray:
        return image[self.y1:self.y2, self.x1:self.x2]


def plan_crops(zones: Mapping[str, Bounds], frame_size: tuple[int, int], model_size: int,
               config: CropConfig) -> list[Crop]:
    """The crops this frame needs: zones that look small to the model, smallest first, at most `max_crops`."""
    if not config.enabled or not zones:
        return []
    width, height = frame_size
    scale = model_size / max(width, height)
    small: list[tuple[float, Crop]] = []
    for zone_id, (zx1, zy1, zx2, zy2) in zones.items():
        w, h = (zx2 - zx1) * width, (zy2 - zy1) * height
        if max(w, h) * scale >= config.min_model_pixels:
            continue  # the whole-frame pass already sees it at a useful size
        side = max(w, h) * (1 + 2 * config.margin)
        side = max(side, model_size / config.max_upscale)
        side = min(side, max(width, height))
        cx, cy = (zx1 + zx2) / 2 * width, (zy1 + zy2) / 2 * height
        x1, y1 = _fit(cx - side / 2, side, width), _fit(cy - side / 2, side, height)
        crop = Crop(zone_id, int(x1), int(y1), int(min(width, x1 + side)), int(min(height, y1 + side)))
        small.append((w * h, crop))
    small.sort(key=lambda pair: pair[0])
    return [crop for _area, crop in small[:config.max_crops]]


def _fit(start: float, side: float, limit: int) -> float:
    """Slide a span of `side` so it stays inside [0, limit]."""
    return float(min(max(start, 0.0), max(limit - side, 0.0)))


def in_frame(crop: Crop, found: Detections, frame_size: tuple[int, int], edge_px: float) -> Detections:
    """A crop's boxes in frame pixels, without those cut by an edge of the crop that is not the frame's."""
    if not len(found):
        return found
    xyxy = found.xyxy + np.array([crop.x1, crop.y1, crop.x1, crop.y1], dtype=np.float32)
    width, height = frame_size
    cut = np.zeros(len(found), dtype=bool)
    if crop.x1 > 0:
        cut |= xyxy[:, 0] <= crop.x1 + edge_px
    if crop.y1 > 0:
        cut |= xyxy[:, 1] <= crop.y1 + edge_px
    if crop.x2 < width:
        cut |= xyxy[:, 2] >= crop.x2 - edge_px
    if crop.y2 < height:
        cut |= xyxy[:, 3] >= crop.y2 - edge_px
    keep = np.flatnonzero(~cut)
    return Detections(xyxy[keep], found.confidence[keep], found.labels[keep])


def merge(frame: Detections, extra: Sequence[Detections], iou: float) -> Detections:
    """The frame's boxes and the crops' in one `Detections`: per label, overlapping boxes keep the best score."""
    parts = [d for d in (frame, *extra) if len(d)]
    if not parts:
        return Detections.empty()
    if len(parts) == 1:
        return parts[0]
    xyxy = np.concatenate([p.xyxy for p in parts])
    confidence = np.concatenate([p.confidence for p in parts])
    labels = np.concatenate([p.labels for p in parts])
    keep = [i for label in dict.fromkeys(labels.tolist())
            for i in _suppress(xyxy, confidence, np.flatnonzero(labels == label), iou)]
    keep.sort()
    return Detections(xyxy[keep], confidence[keep], labels[keep])


def _suppress(xyxy: np.ndarray, confidence: np.ndarray, index: np.ndarray, iou: float) -> list[int]:
    """Greedy non-maximum suppression over `index`, best score first (ties: the earlier box, the frame's)."""
    order = index[np.lexsort((index, -confidence[index]))]
    kept: list[int] = []
    while len(order):
        best, rest = int(order[0]), order[1:]
        kept.append(best)
        if not len(rest):
            break
        tl = np.maximum(xyxy[best, :2], xyxy[rest, :2])
        br = np.minimum(xyxy[best, 2:], xyxy[rest, 2:])
        inter = np.prod(np.clip(br - tl, 0, None), axis=1)
        area = np.prod(xyxy[rest, 2:] - xyxy[rest, :2], axis=1)
        union = np.prod(xyxy[best, 2:] - xyxy[best, :2]) + area - inter
        order = rest[inter / np.maximum(union, 1e-9) < iou]
    return kept


def detect_with_crops(detect: Callable[[list[np.ndarray]], list[Detections]], images: Sequence[np.ndarray],
                      crops: Sequence[Sequence[Crop]], config: CropConfig) -> list[Detections]:
    """Run `detect` once over the frames and every crop they need (one batch), and merge per frame."""
    batch = list(images) + [crop.cut(image) for image, wanted in zip(images, crops, strict=True) for crop in wanted]
    found = detect(batch) if batch else []
    merged: list[Detections] = []
    at = len(images)
    for i, (image, wanted) in enumerate(zip(images, crops, strict=True)):
        size = (image.shape[1], image.shape[0])
        extra = [in_frame(crop, found[at + k], size, config.edge_px) for k, crop in enumerate(wanted)]
        at += len(wanted)
        merged.append(merge(found[i], extra, config.merge_iou) if extra else found[i])
    return merged
