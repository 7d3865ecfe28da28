"""Labelled image sets: the presence classes scored where no footage exists.

An image set names a class, a zone (kind and polygon; the whole frame by default) and folders or files of
positives (the problem is in the zone) and negatives (it is not). Each image is shown to the live pipeline as
a still camera: the same frame at the set's analysis rate for as long as the class's rule needs to raise
(its dwell, or p_on of its window, plus a margin). An image counts as raised when the rule opened an
episode. Detector output on a still frame is computed once and reused, which changes nothing (the model is
deterministic) and keeps a set of hundreds of images affordable; the segmenter runs at its configured rate,
which on a still is once.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from detector import Detections, Detector
from streams import Frame
from worker import CameraConfig, WorkerConfig
from worker.pipeline import CameraPipeline
from worker.zone_readings import ZoneReader
from zones import EventState, ProblemClass, ZoneConfig
from zones.classifier import ZoneClassifier
from zones.config import parse_problem_class

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
WHOLE_FRAME = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]


def image_files(entries: list[str]) -> list[Path]:
    """Files named directly, and the images in folders named, sorted by name."""
    found: list[Path] = []
    for entry in entries:
        path = Path(entry)
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
        else:
            found.append(path)
    return found


class TruthImageSet(BaseModel):
    """Images a person labelled for one class and zone: positives show the problem in the zone, negatives not."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    problem: ProblemClass = Field(alias="class")
    zone: ZoneConfig = Field(description="Kind and polygon; the zone watches the set's class only.")
    positives: list[str] = Field(default_factory=list, description="Image files or folders.")
    negatives: list[str] = Field(default_factory=list, description="Image files or folders.")
    limit: int | None = Field(None, ge=1, description="At most this many of each kind, drawn with a fixed seed.")
    teach: int = Field(0, ge=0, le=500, description="Labels the centre gives first: this many images of each "
                       "kind, never scored, teach the zone's classifier head (as confirmations and dismissals do).")
    analysis_fps: float = Field(0.5, gt=0, le=30, description="How often the still camera is analysed.")
    note: str | None = Field(None, max_length=300)

    @field_validator("problem", mode="before")
    @classmethod
    def _known_class(cls, value: object) -> ProblemClass:
        return parse_problem_class(value)

    @model_validator(mode="before")
    @classmethod
    def _zone_defaults(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("zone"), dict):
            zone = {"id": "zone", "polygon": WHOLE_FRAME, **data["zone"]}
            problem = data.get("class", data.get("problem"))
            data = {**data, "zone": {**zone, "classes": [problem]} if problem is not None else zone}
        return data

    @model_validator(mode="after")
    def _images_exist(self) -> TruthImageSet:
        for kind in ("positives", "negatives"):
            for entry in getattr(self, kind):
                if not Path(entry).exists():
                    raise ValueError(f"{kind}: no such file or folder: {entry}")
        if not self.positives and not self.negatives:
            raise ValueError("an image set needs positives, negatives or both")
        return self

    def _split(self, kind: str) -> tuple[list[Path], list[Path]]:
        """(taught, the rest): the taught images drawn with a fixed seed, so a run is the same every time."""
        files = image_files(getattr(self, kind))
        shuffled = random.Random(f"{self.name}/{kind}/teach").sample(files, len(files))
        return sorted(shuffled[:self.teach]), sorted(shuffled[self.teach:])

    def taught(self, kind: str) -> list[Path]:
        return self._split(kind)[0]

    def drawn(self, kind: str) -> list[Path]:
        """The scored images of a kind: never one that taught the head."""
        files = self._split(kind)[1] if self.teach else image_files(getattr(self, kind))
        if self.limit is not None and len(files) > self.limit:
            files = sorted(random.Random(f"{self.name}/{kind}").sample(files, self.limit))
        return files

    @model_validator(mode="after")
    def _teach_both_kinds(self) -> TruthImageSet:
        if self.teach and not (self.positives and self.negatives):
            raise ValueError("teach: a zone classifier learns from both kinds: give positives and negatives")
        return self


@dataclass
class ImageResult:
    path: Path
    positive: bool
    raised: bool
    reasons: tuple[str, ...] = ()
    error: str | None = None


@dataclass
class ImageSetRun:
    image_set: TruthImageSet
    results: list[ImageResult] = field(default_factory=list)
    covered: bool = True  # a rule ran for the class (else nothing could raise it)
    wall_s: float = 0.0
    taught: int = 0  # images that taught the zone's classifier head first (never scored)

    def counts(self) -> dict[str, int]:
        scored = [r for r in self.results if r.error is None]
        return {"tp": sum(r.positive and r.raised for r in scored),
                "fn": sum(r.positive and not r.raised for r in scored),
                "fp": sum(not r.positive and r.raised for r in scored),
                "tn": sum(not r.positive and not r.raised for r in scored),
                "unreadable": sum(r.error is not None for r in self.results)}


def rates(counts: dict[str, int]) -> dict[str, float | None]:
    tp, fn, fp = counts["tp"], counts["fn"], counts["fp"]
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else None
    return {"precision": precision, "recall": recall, "f1": f1}


class _StillDetector:
    """The detector's answer for the still frame, computed once."""

    def __init__(self, detector: Detector) -> None:
        self.detector = detector
        self.labels = detector.labels
        self._image: np.ndarray | None = None
        self._found: Detections | None = None

    def detect(self, images: list[np.ndarray]) -> list[Detections]:
        if self._image is not images[0] or self._found is None:
            self._image, self._found = images[0], self.detector.detect(images)[0]
        return [self._found]


def hold_s(config: WorkerConfig, zone: ZoneConfig, problem: ProblemClass, fps: float) -> float:
    """How long the still is shown: the rule's least delay to raise, plus two analysed frames."""
    params = zone.params_for(problem, config.rules.for_class(problem))
    dwell = getattr(params, "dwell_s", None)
    if dwell is None:
        dwell = params.window_s * params.p_on  # type: ignore[attr-defined]
    return float(dwell) + 2.0 / fps


def _still(camera_id: str, image: np.ndarray, fps: float, seconds: float) -> Iterator[Frame]:
    for index in range(math.ceil(seconds * fps) + 1):
        yield Frame(camera_id=camera_id, ts_s=index / fps, seq=index, image=image)


def run_image_set(image_set: TruthImageSet, config: WorkerConfig, detector: Detector) -> ImageSetRun:
    """Every drawn image through a fresh pipeline of its own (no state carries from one photo to the next)."""
    started = time.monotonic()
    run = ImageSetRun(image_set)
    drawn = [(path, positive) for kind, positive in (("positives", True), ("negatives", False))
             for path in image_set.drawn(kind)]
    if not drawn:
        return run
    # The source is never opened: frames come from `_still`; a file that exists keeps the camera valid.
    camera = CameraConfig(id=f"images-{image_set.name}", zones=[image_set.zone],
                          source={"url": str(drawn[0][0]), "analysis_fps": image_set.analysis_fps})
    still = _StillDetector(detector)
    seconds = hold_s(config, image_set.zone, image_set.problem, image_set.analysis_fps)
    head = _teach(image_set, config, camera) if image_set.teach else None
    run.taught = 2 * image_set.teach
    for path, positive in drawn:
        image = cv2.imread(str(path))
        if image is None:
            run.results.append(ImageResult(path, positive, False, error="unreadable image"))
            continue
        zone_readings = ZoneReader(config.scene, config.classifiers)
        zone_readings.set_zones(camera.id, camera.zones)
        if head is not None:
            zone_readings.set_head(camera.id, image_set.zone.id, image_set.problem, head)
        pipeline = CameraPipeline(camera, config.rules, config.tracker, detector.labels,
                                  zone_level=zone_readings.classes_for(camera.id))
        run.covered = bool(pipeline.rules)
        starts = []
        for frame in _still(camera.id, image, image_set.analysis_fps, seconds):
            detections = still.detect([frame.image])[0]
            zone_readings.measure([frame])
            starts += [e for e in pipeline.process(frame, detections, zone_readings.latest(camera.id))
                       if e.state is EventState.START and e.problem is image_set.problem]
        run.results.append(ImageResult(path, positive, bool(starts), starts[0].reasons if starts else ()))
    run.wall_s = time.monotonic() - started
    return run


def _teach(image_set: TruthImageSet, config: WorkerConfig, camera: CameraConfig) -> ZoneClassifier:
    """The zone's head, trained on the set's taught images as the worker trains it on the centre's labels."""
    source = ZoneReader(config.scene, config.classifiers)
    source.set_zones(camera.id, camera.zones)
    embeddings, labels = [], []
    for kind, positive in (("positives", True), ("negatives", False)):
        for path in image_set.taught(kind):
            image = cv2.imread(str(path))
            embedding = source.embed_zone(camera.id, image, image_set.zone.id) if image is not None else None
            if embedding is not None:
                embeddings.append(embedding)
                labels.append(positive)
    head = ZoneClassifier.fit(np.stack(embeddings), labels, config.classifiers.encoder.variant,
                              c=config.classifiers.retrain.c)
    head.meta["n_labels"] = len(labels)
    return head
