"""Run the models Ultralytics can load and merge their results into one `Detections` per image."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from detector.config import DetectorConfig, ModelSpec
from detector.detections import Detections
from models.loading import ModelLoadError, open_yolo
from models.precision import PrecisionError, pinned_precision
from models.registry import ModelInfo, resolve_model, unique_names
from models.triton import is_triton_url

log = logging.getLogger(__name__)

# No update checks or downloads of fonts and extras while a worker runs.
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_VERBOSE", "False")


class DetectorError(RuntimeError):
    """A model could not be loaded or run; the message is one line, fit to show a user as it is."""


def load_failure(path: str, exc: BaseException) -> str:
    """One line for a failure inside Ultralytics: its first line, the path, and what to try."""
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
    if is_triton_url(path):
        return (f"Triton 模型无法连接 cannot reach Triton model {path}: {first} — 请确认服务器在运行且提供该模型 "
                f"check that tritonserver runs, is reachable, and serves that model (GET /v2/models/NAME/config)")
    return (
        f"模型无法加载 cannot load model {path}: {first} — 请确认文件完整且为 Ultralytics 导出的检测模型 "
        f"check that it is a complete Ultralytics detection export (.onnx, .pt, OpenVINO folder)"
    )


@dataclass
class _Loaded:
    """One model in memory with what it needs per call: its evidence label per class index."""

    info: ModelInfo
    model: Any  # ultralytics.YOLO
    evidence: np.ndarray  # class index -> evidence label ('' = dropped)
    predict_kwargs: dict[str, object]
    drop_inside: frozenset[str] = frozenset()
    drop_inside_share: float = 0.5


class Detector:
    """The configured models; `detect` runs each on a batch of images (one per camera) and merges them.

    Labels in the merged `Detections` are evidence labels, after each model's label map. Detections
    of different models are concatenated, not de-duplicated: two models that both see cars give two
    boxes per car, so map one model's duplicate labels to '' to drop them. A model with `drop_inside`
    loses its boxes that lie mostly inside the other models' boxes of those labels (a garbage-bag
    model's false bags on people and vehicles).
    """

    def __init__(self, config: DetectorConfig) -> None:
        self.config = config
        self._loaded: list[_Loaded] = []
        for spec in config.models:
            try:
                model = open_yolo(spec.path, config.precision)
                names = dict(model.names)  # loads the weights for exported formats
            except ModelLoadError as exc:
                raise DetectorError(str(exc)) from None
            except Exception as exc:  # Ultralytics raises many kinds for a bad file
                raise DetectorError(load_failure(spec.path, exc)) from exc
            self._loaded.append(self._prepare(spec, model, [names[i] for i in sorted(names)]))
        unique_names([m.info for m in self._loaded])
        for loaded in self._loaded:
            for warning in loaded.info.warnings:
                log.warning("model %s: %s", loaded.info.name, warning)

    def _prepare(self, spec: ModelSpec, model: Any, names: list[str]) -> _Loaded:
        try:
            info = resolve_model(spec.path, spec.manifest, spec.label_map, spec.imgsz or self.config.imgsz, names)
        except ValueError as exc:
            raise DetectorError(f"model {spec.path!r}: {exc}") from exc
        kwargs: dict[str, object] = {
            "conf": spec.confidence if spec.confidence is not None else self.config.confidence,
            "iou": self.config.iou,
            "device": self.config.device,
            "verbose": False,
        }
        if info.imgsz:
            kwargs["imgsz"] = info.imgsz
        evidence = np.array([info.evidence_label(label) for label in info.labels], dtype=object)
        return _Loaded(info, model, evidence, kwargs, frozenset(spec.drop_inside), spec.drop_inside_share)

    @property
    def labels(self) -> set[str]:
        """Evidence labels the loaded models can produce, all models together."""
        return set().union(*(m.info.evidence_labels for m in self._loaded))

    @property
    def models(self) -> list[ModelInfo]:
        """Each loaded model: name, path, format, imgsz, labels and evidence labels, for coverage reports."""
        return [m.info for m in self._loaded]

    @property
    def precisions(self) -> dict[str, str | None]:
        """Per model, the precision its runtime reported when pinned (None until its first frame)."""
        return {m.info.name: pinned_precision(m.model) for m in self._loaded}

    def detect(self, images: list[np.ndarray]) -> list[Detections]:
        if not images:
            return []
        per_model = [self._run(loaded, images) for loaded in self._loaded]
        if len(per_model) == 1:
            return per_model[0]
        for m, loaded in enumerate(self._loaded):
            if loaded.drop_inside:
                per_model[m] = [
                    _drop_inside(dets, [other[i] for k, other in enumerate(per_model) if k != m], loaded)
                    for i, dets in enumerate(per_model[m])
                ]
        return [_merge([dets[i] for dets in per_model]) for i in range(len(images))]

    def _run(self, loaded: _Loaded, images: list[np.ndarray]) -> list[Detections]:
        try:
            results = loaded.model.predict(images, **loaded.predict_kwargs)
        except PrecisionError as exc:
            raise DetectorError(f"model {loaded.info.name}: {exc}") from exc
        return [_to_detections(r, loaded.evidence) for r in results]


def _to_detections(result: Any, evidence: np.ndarray) -> Detections:
    boxes = result.boxes
    if boxes is None or len(boxes) == 0:
        return Detections.empty()
    data = boxes.data.cpu().numpy()
    labels = evidence[data[:, 5].astype(int)]
    keep = labels != ""
    return Detections(data[keep, :4], data[keep, 4], labels[keep])


def _drop_inside(dets: Detections, others: list[Detections], loaded: _Loaded) -> Detections:
    """Drop `dets` boxes whose area lies mostly inside another model's box of a `drop_inside` label."""
    covers = [o.xyxy[np.isin(o.labels, list(loaded.drop_inside))] for o in others if len(o)]
    covers = [c for c in covers if len(c)]
    if not len(dets) or not covers:
        return dets
    outer = np.concatenate(covers)
    tl = np.maximum(dets.xyxy[:, None, :2], outer[None, :, :2])
    br = np.minimum(dets.xyxy[:, None, 2:], outer[None, :, 2:])
    inside = np.prod(np.clip(br - tl, 0, None), axis=2)
    area = np.maximum(np.prod(dets.xyxy[:, 2:] - dets.xyxy[:, :2], axis=1), 1e-9)
    keep = (inside / area[:, None]).max(axis=1) < loaded.drop_inside_share
    return dets if keep.all() else dets[np.flatnonzero(keep)]


def _merge(parts: list[Detections]) -> Detections:
    parts = [p for p in parts if len(p)]
    if not parts:
        return Detections.empty()
    if len(parts) == 1:
        return parts[0]
    return Detections(
        np.concatenate([p.xyxy for p in parts]),
        np.concatenate([p.confidence for p in parts]),
        np.concatenate([p.labels for p in parts]),
    )
