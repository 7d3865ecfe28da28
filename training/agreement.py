"""Measure models on the shared footage: box agreement between two models, false boxes on clips without
the object, inference time. Used to check a rebuilt model against its int8 source and to write the
figures into a trained model's manifest.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# The shared clips by short name; none shows a garbage bag.
STREET_CLIPS = {
    "residential": "video/residential-street-parked-cars.mp4",
    "highway": "video/highway-720p.mp4",
    "stopline": "video/stopline-motorcycles.mp4",
    "london": "video/london-street-1080p.mp4",
    "city": "video/city-traffic-1080p-vp9.mp4",
    "pedestrian": "video/pedestrian-street-1080p.mp4",
    "night": "video/night-wet-square-240p.mp4",
}
STREET_IMAGES = ("images/bus.jpg", "images/flooded-street.jpg", "images/pothole.jpg", "images/water-filled-pothole.jpg")


def letterbox(image: np.ndarray, size: int) -> Any:
    """A BGR image as a 1x3xSxS RGB float tensor in 0..1, aspect kept and padded grey, as Ultralytics feeds it."""
    import cv2
    import torch

    h, w = image.shape[:2]
    scale = min(size / h, size / w)
    nh, nw = round(h * scale), round(w * scale)
    canvas = np.full((size, size, 3), 114, dtype=np.uint8)
    top, left = (size - nh) // 2, (size - nw) // 2
    canvas[top : top + nh, left : left + nw] = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    rgb = np.ascontiguousarray(canvas[:, :, ::-1].transpose(2, 0, 1))
    return torch.from_numpy(rgb).float().div(255.0).unsqueeze(0)


def clip_frames(path: Path | str, every: int) -> Iterator[np.ndarray]:
    """Every `every`-th decoded frame of a clip, as BGR arrays."""
    import av

    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i % every == 0:
                yield frame.to_ndarray(format="bgr24")


def shared_frames(
    assets: Path, every: int, clips: Sequence[str] | None = None, images: bool = True
) -> Iterator[tuple[str, np.ndarray]]:
    """(source name, BGR frame) over the shared clips (every N-th frame) and, optionally, the shared images."""
    import cv2

    for name in clips if clips is not None else STREET_CLIPS:
        path = assets / STREET_CLIPS[name]
        if path.is_file():
            for frame in clip_frames(path, every):
                yield name, frame
    if images:
        for rel in STREET_IMAGES:
            image = cv2.imread(str(assets / rel))
            if image is not None:
                yield Path(rel).stem, image


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in a (N,4 xyxy) with every box in b (M,4)."""
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    tl = np.maximum(a[:, None, :2], b[None, :, :2])
    br = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(br - tl, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def match(
    a_boxes: np.ndarray, a_cls: np.ndarray, b_boxes: np.ndarray, b_cls: np.ndarray, threshold: float = 0.5
) -> list[float]:
    """Greedy one-to-one matches of same-class boxes with IoU >= threshold, best first; their IoUs."""
    iou = iou_matrix(a_boxes, b_boxes)
    if iou.size:
        iou = np.where(a_cls[:, None] == b_cls[None, :], iou, 0.0)
    matched: list[float] = []
    while iou.size and iou.max() >= threshold:
        i, j = np.unravel_index(int(iou.argmax()), iou.shape)
        matched.append(float(iou[i, j]))
        iou[i, :] = 0.0
        iou[:, j] = 0.0
    return matched


@dataclass
class Agreement:
    """How far model B's boxes are model A's: matched by IoU >= 0.5 and the same class."""

    frames: int = 0
    boxes_a: int = 0
    boxes_b: int = 0
    matched: int = 0
    iou_sum: float = 0.0
    ms_a: list[float] = field(default_factory=list, repr=False)
    ms_b: list[float] = field(default_factory=list, repr=False)

    @property
    def share_of_a(self) -> float:
        return self.matched / self.boxes_a if self.boxes_a else 1.0

    @property
    def share_of_b(self) -> float:
        return self.matched / self.boxes_b if self.boxes_b else 1.0

    @property
    def mean_iou(self) -> float:
        return self.iou_sum / self.matched if self.matched else 0.0

    def summary(self) -> dict[str, float | int]:
        out = {k: v for k, v in asdict(self).items() if k not in ("ms_a", "ms_b", "iou_sum")}
        return {
            **out,
            "share_of_a": round(self.share_of_a, 4),
            "share_of_b": round(self.share_of_b, 4),
            "mean_iou": round(self.mean_iou, 4),
            "median_ms_a": round(_median(self.ms_a), 1),
            "median_ms_b": round(_median(self.ms_b), 1),
        }


def _median(values: list[float]) -> float:
    return float(np.median(values)) if values else 0.0


def predict(model: Any, frame: np.ndarray, conf: float, imgsz: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Boxes (xyxy), class indices and inference milliseconds of one Ultralytics model on one frame."""
    result = model.predict(frame, conf=conf, imgsz=imgsz, verbose=False)[0]
    data = result.boxes.data.cpu().numpy() if result.boxes is not None else np.zeros((0, 6))
    return data[:, :4], data[:, 5].astype(int), float(result.speed.get("inference", 0.0))


def agreement(
    model_a: Any,
    model_b: Any,
    frames: Iterator[tuple[str, np.ndarray]],
    conf: float = 0.25,
    imgsz: int = 640,
    threshold: float = 0.5,
) -> Agreement:
    """Run both models on every frame and count matched boxes (A: the reference, e.g. the int8 export)."""
    result = Agreement()
    for _name, frame in frames:
        boxes_a, cls_a, ms_a = predict(model_a, frame, conf, imgsz)
        boxes_b, cls_b, ms_b = predict(model_b, frame, conf, imgsz)
        ious = match(boxes_a, cls_a, boxes_b, cls_b, threshold)
        result.frames += 1
        result.boxes_a += len(boxes_a)
        result.boxes_b += len(boxes_b)
        result.matched += len(ious)
        result.iou_sum += sum(ious)
        result.ms_a.append(ms_a)
        result.ms_b.append(ms_b)
    return result


def false_boxes(model: Any, assets: Path, every: int, conf: float, imgsz: int) -> dict[str, dict[str, float]]:
    """Boxes per frame on each shared street clip, which shows none of the model's objects: all false.

    Returns {clip: {frames, boxes, per_frame}} plus 'all' and the median inference ms under 'all'.
    """
    out: dict[str, dict[str, float]] = {}
    timings: list[float] = []
    for name in STREET_CLIPS:
        frames = boxes = 0
        for _, frame in shared_frames(assets, every, clips=[name], images=False):
            found, _cls, ms = predict(model, frame, conf, imgsz)
            frames += 1
            boxes += len(found)
            timings.append(ms)
        if frames:
            out[name] = {"frames": frames, "boxes": boxes, "per_frame": round(boxes / frames, 4)}
    frames = sum(int(v["frames"]) for v in out.values())
    boxes = sum(int(v["boxes"]) for v in out.values())
    out["all"] = {
        "frames": frames,
        "boxes": boxes,
        "per_frame": round(boxes / frames, 4) if frames else 0.0,
        "median_ms": round(_median(timings), 1),
    }
    return out


def time_model(model: Any, frames: Sequence[np.ndarray], imgsz: int, conf: float = 0.25) -> float:
    """Median wall milliseconds of one predict call per frame (pre- and post-processing included)."""
    model.predict(frames[0], imgsz=imgsz, conf=conf, verbose=False)  # warm-up
    times = []
    for frame in frames:
        start = time.perf_counter()
        model.predict(frame, imgsz=imgsz, conf=conf, verbose=False)
        times.append((time.perf_counter() - start) * 1000)
    return _median(times)


def beside_coco(
    coco: str,
    model: str,
    assets: Path,
    valid: list[tuple[np.ndarray, np.ndarray]],
    every: int,
    confs: Sequence[float],
    drop_inside: Sequence[str],
) -> dict[str, dict[str, float]]:
    """A one-label model run as a second model beside COCO, through the Detector, its boxes inside COCO's
    `drop_inside` boxes dropped: false boxes per street frame and precision/recall on `valid` (image,
    xyxy ground truth) at each confidence in `confs`."""
    from detector import Detector, DetectorConfig

    spec = {"path": model, "confidence": min(confs), "drop_inside": list(drop_inside)}
    detector = Detector(DetectorConfig(models=[{"path": coco}, spec]))
    label = detector.models[1].evidence_labels[0]

    def own(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dets = detector.detect([image])[0]
        mine = dets.labels == label
        return dets.xyxy[mine], dets.confidence[mine]

    street = [own(frame)[1] for _, frame in shared_frames(assets, every, images=False)]
    found = [(own(image), truth) for image, truth in valid]
    out: dict[str, dict[str, float]] = {}
    for conf in confs:
        false = sum(int((c >= conf).sum()) for c in street)
        tp = fp = truths = 0
        for (boxes, scores), truth in found:
            kept = boxes[scores >= conf]
            hits = len(match(kept, np.zeros(len(kept)), truth, np.zeros(len(truth))))
            tp, fp, truths = tp + hits, fp + len(kept) - hits, truths + len(truth)
        out[f"{conf:g}"] = {
            "street_frames": len(street),
            "street_false_boxes": false,
            "street_per_frame": round(false / max(len(street), 1), 4),
            "valid_precision": round(tp / max(tp + fp, 1), 4),
            "valid_recall": round(tp / max(truths, 1), 4),
        }
    return out
