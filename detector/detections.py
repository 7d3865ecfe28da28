"""One small detection type shared by every stage after the model."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _no_ids(n: int) -> np.ndarray:
    return np.full(n, -1, dtype=np.int64)


@dataclass(frozen=True)
class Detections:
    """Boxes of one frame in pixels (x1, y1, x2, y2), with scores, labels and track ids.

    Labels are evidence labels: each model's names after its label map (COCO `car`, a custom
    model's `garbage_bag`), so that detections from several models can sit in one object. `tracker_id` is -1 until
    a tracker has assigned one.
    """

    xyxy: np.ndarray
    confidence: np.ndarray
    labels: np.ndarray
    tracker_id: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        n = len(self.xyxy)
        object.__setattr__(self, "xyxy", np.asarray(self.xyxy, dtype=np.float32).reshape(n, 4))
        object.__setattr__(self, "confidence", np.asarray(self.confidence, dtype=np.float32).reshape(n))
        object.__setattr__(self, "labels", np.asarray(self.labels, dtype=object).reshape(n))
        ids = _no_ids(n) if self.tracker_id is None else np.asarray(self.tracker_id, dtype=np.int64)
        object.__setattr__(self, "tracker_id", ids.reshape(n))

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=object))

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: np.ndarray | slice | list[int]) -> Detections:
        return Detections(
            self.xyxy[index], self.confidence[index], self.labels[index], self.tracker_id[index]
        )

    def with_tracker_ids(self, tracker_id: np.ndarray) -> Detections:
        return Detections(self.xyxy, self.confidence, self.labels, tracker_id)

    @property
    def anchors(self) -> np.ndarray:
        """Bottom centre of each box: where the object touches the ground."""
        return np.stack([(self.xyxy[:, 0] + self.xyxy[:, 2]) / 2, self.xyxy[:, 3]], axis=1)

    @property
    def areas(self) -> np.ndarray:
        return (self.xyxy[:, 2] - self.xyxy[:, 0]).clip(0) * (self.xyxy[:, 3] - self.xyxy[:, 1]).clip(0)
