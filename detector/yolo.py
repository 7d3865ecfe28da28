"""Run any model Ultralytics can load and turn its results into `Detections`."""

from __future__ import annotations

import logging
import os

import numpy as np

from detector.config import DetectorConfig
from detector.detections import Detections

log = logging.getLogger(__name__)

# No update checks or downloads of fonts and extras while a worker runs.
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_VERBOSE", "False")


class DetectorError(RuntimeError):
    """The model could not be loaded or run."""


class Detector:
    """One loaded model; `detect` takes a batch of images, one per camera."""

    def __init__(self, config: DetectorConfig) -> None:
        from ultralytics import YOLO  # heavy import, paid only by processes that detect

        self.config = config
        try:
            self._model = YOLO(config.model, task="detect")
        except Exception as exc:  # Ultralytics raises many kinds for a bad file
            raise DetectorError(f"cannot load model {config.model!r}: {exc}") from exc
        self.names: dict[int, str] = dict(self._model.names)
        self._label_array = np.array([self.names[i] for i in sorted(self.names)], dtype=object)

    @property
    def labels(self) -> set[str]:
        return set(self.names.values())

    def detect(self, images: list[np.ndarray]) -> list[Detections]:
        if not images:
            return []
        kwargs: dict[str, object] = {
            "conf": self.config.confidence,
            "iou": self.config.iou,
            "device": self.config.device,
            "verbose": False,
        }
        if self.config.imgsz:
            kwargs["imgsz"] = self.config.imgsz
        results = self._model.predict(images, **kwargs)
        return [self._to_detections(r) for r in results]

    def _to_detections(self, result: object) -> Detections:
        boxes = result.boxes  # type: ignore[attr-defined]
        if boxes is None or len(boxes) == 0:
            return Detections.empty()
        data = boxes.data.cpu().numpy()
        return Detections(data[:, :4], data[:, 4], self._label_array[data[:, 5].astype(int)])
