"""Zone classifiers that learn from labels: a small head per zone and class on a frozen encoder.

No shared model names overflowing bins, vending stalls or waterlogged kerbs for every camera; but
the centre confirms and dismisses alerts every day, and each of those is a label for one zone. A
logistic regression on `detector.encoder` embeddings of the zone's crop learns "problem / no
problem" from a few of them in well under a second, so every zone gets sharper with use.

`HeadTrainer` is the loop's policy: retrain when enough new labels arrived, judge the new head on
labels held back from training (a fixed, stratified share: each label is held back or not once and
for all, so the old head never trained on them either), and keep the old head when the new one
does worse. Heads are saved as JSON numbers, never as pickled code.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

FORMAT_VERSION = 1


def crop_zone(
    image: np.ndarray, polygon: Sequence[tuple[float, float]], mask: bool = False, pad: float = 0.0,
    fill: int = 128,
) -> np.ndarray:
    """The zone's bounding box cut from a BGR image (normalised polygon), grown by `pad` of its size
    on each side; with `mask`, pixels outside the polygon are painted `fill` grey."""
    height, width = image.shape[:2]
    points = np.asarray(polygon, dtype=np.float64).reshape(-1, 2) * (width, height)
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    grow_x, grow_y = (x1 - x0) * pad, (y1 - y0) * pad
    left, top = max(0, int(np.floor(x0 - grow_x))), max(0, int(np.floor(y0 - grow_y)))
    right = min(width, max(left + 1, int(np.ceil(x1 + grow_x))))
    bottom = min(height, max(top + 1, int(np.ceil(y1 + grow_y))))
    crop = image[top:bottom, left:right].copy()
    if mask:
        inside = np.zeros(crop.shape[:2], dtype=np.uint8)
        shifted = np.round((points - (left, top) - 0.5) * 16).astype(np.int32)
        cv2.fillPoly(inside, [shifted], 1, lineType=cv2.LINE_8, shift=4)
        crop[inside == 0] = fill
    return crop


def _normalise(embeddings: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length: crops differ in brightness and contrast, the head should not care."""
    x = np.asarray(embeddings, dtype=np.float64)
    x = x.reshape(1, -1) if x.ndim == 1 else x
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


class ZoneClassifier:
    """Logistic regression on unit-length embeddings: probability that the zone shows the problem.

    Prediction is plain numpy on the stored numbers, so a loaded head gives exactly the
    probabilities the saved one gave, and loading needs neither scikit-learn nor pickle.
    """

    def __init__(self, weights: np.ndarray, bias: float, encoder: str, meta: dict[str, Any] | None = None) -> None:
        self.weights = np.asarray(weights, dtype=np.float64).ravel()
        self.bias = float(bias)
        self.encoder = encoder
        self.meta = dict(meta or {})

    @property
    def dim(self) -> int:
        return len(self.weights)

    @classmethod
    def fit(cls, embeddings: np.ndarray, labels: Sequence[bool] | np.ndarray, encoder: str, c: float = 100.0
            ) -> ZoneClassifier:
        """Train on N x D embeddings and N labels (True = problem); classes weighted to balance."""
        from sklearn.linear_model import LogisticRegression  # paid only where heads are trained

        y = np.asarray(labels, dtype=bool)
        if y.all() or not y.any():
            raise ValueError("a head needs labels of both kinds (problem and no problem)")
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
        model.fit(_normalise(embeddings), y.astype(int))
        meta = {"n_problem": int(y.sum()), "n_clear": int((~y).sum()), "c": c}
        return cls(model.coef_[0], float(model.intercept_[0]), encoder, meta)

    def predict_proba(self, embeddings: np.ndarray) -> np.ndarray:
        """Probability of the problem, one per row."""
        x = _normalise(embeddings)
        if x.shape[1] != self.dim:
            raise ValueError(f"embeddings of {x.shape[1]} values; this head ({self.encoder}) takes {self.dim}")
        return 1.0 / (1.0 + np.exp(-(x @ self.weights + self.bias)))

    def predict(self, embeddings: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        return self.predict_proba(embeddings) >= threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION, "kind": "logistic", "encoder": self.encoder,
            "weights": self.weights.tolist(), "bias": self.bias, "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ZoneClassifier:
        if data.get("version") != FORMAT_VERSION or data.get("kind") != "logistic":
            raise ValueError(f"not a zone classifier of version {FORMAT_VERSION}: {data.get('version')!r}")
        return cls(np.array(data["weights"], dtype=np.float64), data["bias"], data["encoder"], data.get("meta"))

    def save(self, path: str | Path) -> None:
        """JSON: Python writes floats so that they read back bit for bit."""
        Path(path).write_text(json.dumps(self.to_dict()), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> ZoneClassifier:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def accuracy(head: ZoneClassifier, embeddings: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(accuracy, balanced accuracy): the mean of the recall on problems and on clear crops."""
    y = np.asarray(labels, dtype=bool)
    predicted = head.predict(embeddings)
    recalls = [float(np.mean(predicted[y == kind] == kind)) for kind in (True, False) if np.any(y == kind)]
    return float(np.mean(predicted == y)), float(np.mean(recalls))


class RetrainPolicy(BaseModel):
    """When a zone's head is retrained, and on what."""

    model_config = ConfigDict(extra="forbid")

    min_new: int = Field(5, ge=1, description="New labels since the last retraining before another.")
    min_per_class: int = Field(5, ge=1, description="Training labels of each kind a head needs.")
    holdout_share: float = Field(0.25, gt=0.0, lt=1.0, description="Share of each kind held back to judge heads.")
    max_labels: int = Field(1000, ge=10, description="Labels kept per zone and class; the oldest go first.")
    c: float = Field(100.0, gt=0.0, description="Inverse regularisation of the head (bins curve).")


@dataclass(frozen=True)
class RetrainReport:
    """What `maybe_retrain` did: whether it trained, whether the new head replaced the old, and why."""

    trained: bool
    replaced: bool
    reason: str
    n_labels: int
    n_train: int
    n_holdout: int
    accuracy_old: float | None = None
    accuracy_new: float | None = None
    balanced_old: float | None = None
    balanced_new: float | None = None


class HeadTrainer:
    """The labels of one zone and class, and its current head.

    `add` files each label for training or holds it back: per kind, every 1/`holdout_share`-th
    label is held back (or the caller decides, e.g. for labels a supervisor audited).
    """

    def __init__(self, encoder: str, policy: RetrainPolicy | None = None, head: ZoneClassifier | None = None) -> None:
        if head is not None and head.encoder != encoder:
            raise ValueError(f"the head takes {head.encoder} embeddings; this trainer gets {encoder} ones")
        self.encoder = encoder
        self.policy = policy or RetrainPolicy()
        self.head = head
        keep_holdout = max(2, round(self.policy.max_labels * self.policy.holdout_share))
        self._train: deque[tuple[np.ndarray, bool]] = deque(maxlen=self.policy.max_labels - keep_holdout)
        self._holdout: deque[tuple[np.ndarray, bool]] = deque(maxlen=keep_holdout)
        self._seen = {True: 0, False: 0}
        self._new = 0

    @property
    def seen(self) -> int:
        """Labels filed so far, of both kinds."""
        return self._seen[True] + self._seen[False]

    def add(self, embedding: np.ndarray, problem: bool, holdout: bool | None = None) -> bool:
        """File one label; True when it was held back."""
        problem = bool(problem)
        self._seen[problem] += 1
        self._new += 1
        if holdout is None:
            n, share = self._seen[problem], self.policy.holdout_share
            holdout = int(n * share) > int((n - 1) * share)
        (self._holdout if holdout else self._train).append((np.asarray(embedding, dtype=np.float32).ravel(), problem))
        return holdout

    @staticmethod
    def _split(items: deque[tuple[np.ndarray, bool]]) -> tuple[np.ndarray, np.ndarray]:
        if not items:
            return np.zeros((0, 0), dtype=np.float32), np.zeros(0, dtype=bool)
        return np.stack([e for e, _ in items]), np.array([p for _, p in items], dtype=bool)

    def maybe_retrain(self) -> RetrainReport:
        """Train a new head when due; it replaces the old one unless it is worse on the held-back labels.

        Worse means a lower balanced accuracy (a zone sees far more clear frames than problems,
        and plain accuracy would reward a head that never raises); a tie goes to the new head,
        which has seen more labels.
        """
        x, y = self._split(self._train)
        hx, hy = self._split(self._holdout)
        sizes = {"n_labels": len(y) + len(hy), "n_train": len(y), "n_holdout": len(hy)}
        short = [f"{need} more {name}" for name, kind in (("problem", True), ("clear", False))
                 if (need := self.policy.min_per_class - int(np.sum(y == kind))) > 0]
        if self._new < self.policy.min_new:
            return RetrainReport(False, False, f"{self._new} new labels, waiting for {self.policy.min_new}", **sizes)
        if short:
            return RetrainReport(False, False, "training labels needed: " + ", ".join(short), **sizes)
        if self.head is not None and not (hy.any() and (~hy).any()):
            return RetrainReport(False, False, "no held-back labels of both kinds to judge the new head", **sizes)
        new = ZoneClassifier.fit(x, y, self.encoder, self.policy.c)
        self._new = 0
        scores_new = accuracy(new, hx, hy) if len(hy) else (None, None)
        if self.head is None:
            self.head = new
            return RetrainReport(True, True, "first head", **sizes, accuracy_new=scores_new[0],
                                 balanced_new=scores_new[1])
        scores_old = accuracy(self.head, hx, hy)
        replaced = scores_new[1] is not None and scores_new[1] >= scores_old[1]
        if replaced:
            self.head = new
        reason = "new head as good or better on held-back labels" if replaced else "new head worse on held-back labels"
        return RetrainReport(True, replaced, reason, **sizes, accuracy_old=scores_old[0], accuracy_new=scores_new[0],
                             balanced_old=scores_old[1], balanced_new=scores_new[1])
