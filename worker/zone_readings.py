"""Zone-level evidence on a worker: the scene segmenter and the zone classifiers, at a low rate, for the cameras
whose zones watch a class they can show.

Every `every_n_frames`-th analysed frame of such a camera is segmented (zones/scene.py: shares above each
zone's clear level) and, where a zone has a trained head, its crop embedded and scored (zones/classifier.py).
The latest measurement of each zone is what the rules read on every frame until the next one: these
problems change over minutes, so a few seconds' staleness costs nothing and keeps the cost a fraction of
detection's (docs/performance.md). Labels from the centre teach both: a clear frame raises a zone's clear
level, every label feeds that zone's head (worker/labels.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from detector.encoder import EncoderConfig, ImageEncoder
from detector.scene import SceneSegmenter
from streams import Frame
from zones import ProblemClass, ZoneConfig
from zones.classifier import RetrainPolicy, ZoneClassifier, crop_zone
from zones.readings import ZoneReading
from zones.scene import SceneBaseline, ZoneSceneEvidence

# Re-exported: worker.config, the tools and the tests read the scene schema from here too.
from zones.scene_config import SceneReadingConfig, scene_classes, scene_details  # noqa: F401

log = logging.getLogger(__name__)


class ClassifierConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Score zones that have a trained head (labels from the centre).")
    encoder: EncoderConfig = Field(default_factory=EncoderConfig)
    every_n_frames: int = Field(30, ge=1, le=10_000, description="One analysed frame in N is scored (each zone "
                                "with a head: one embedding of its crop, whatever number of classes it scores).")
    retrain: RetrainPolicy = Field(default_factory=RetrainPolicy)
    heads_dir: str | None = Field(None, description="Where a worker keeps its trained heads (default "
                                  "`<media_dir>/heads`); they are used from the next start before any label arrives.")


class _Camera:
    def __init__(self, zones: Sequence[ZoneConfig], baseline: SceneBaseline) -> None:
        self.zones = {z.id: z for z in zones}
        self.scene = ZoneSceneEvidence(list(zones), baseline=baseline)
        self.heads: dict[tuple[str, ProblemClass], ZoneClassifier] = {}
        self.latest: dict[str, ZoneReading] = {}
        self.frames = 0
        self.look = False  # measure at the next frame, whatever the rate (a camera check asked)


class ZoneReader:
    """One per worker; `measure` runs on the inference thread, label learning may come from another."""

    def __init__(self, scene: SceneReadingConfig, classifier: ClassifierConfig) -> None:
        self.scene_config = scene
        self.classifier_config = classifier
        self.scene_classes = scene_classes(scene)
        self._segmenter: SceneSegmenter | None = None
        self._encoder: ImageEncoder | None = None
        self._cameras: dict[str, _Camera] = {}
        self._lock = threading.Lock()
        self.segmented = 0
        self.scored = 0

    @property
    def segmenter(self) -> SceneSegmenter:
        if self._segmenter is None:
            self._segmenter = SceneSegmenter(self.scene_config.segmenter)
        return self._segmenter

    @property
    def encoder(self) -> ImageEncoder:
        if self._encoder is None:
            self._encoder = ImageEncoder(self.classifier_config.encoder)
        return self._encoder

    def classes_for(self, camera_id: str) -> frozenset[ProblemClass]:
        """What zone-level evidence can show on this camera: the segmenter's classes, and its zones' heads."""
        camera = self._cameras.get(camera_id)
        heads = {problem for _zone, problem in camera.heads} if camera else set()
        return self.scene_classes | heads

    def set_zones(self, camera_id: str, zones: Sequence[ZoneConfig], baseline: SceneBaseline | None = None) -> None:
        """A camera's zones (at start, and after a reload: a zone whose polygon changed forgets its level)."""
        with self._lock:
            camera = self._cameras.get(camera_id)
            if camera is None:
                self._cameras[camera_id] = _Camera(zones, baseline or SceneBaseline())
                return
            changed = [z for z_id, z in camera.zones.items() if z_id not in {x.id for x in zones}
                       or next(x for x in zones if x.id == z_id).polygon != z.polygon]
            camera.scene.baseline.forget(z.id for z in changed)
            fresh = _Camera(zones, camera.scene.baseline)
            fresh.heads = {key: head for key, head in camera.heads.items() if key[0] in fresh.zones
                           and key[0] not in {z.id for z in changed}}
            fresh.frames = camera.frames
            self._cameras[camera_id] = fresh

    def set_head(self, camera_id: str, zone_id: str, problem: ProblemClass, head: ZoneClassifier) -> None:
        with self._lock:
            camera = self._cameras.get(camera_id)
            if camera is not None and zone_id in camera.zones:
                camera.heads[(zone_id, problem)] = head

    def look_now(self, camera_id: str) -> None:
        """Measure this camera's zones at its next frame (any thread): a verification must not read a reading
        taken before the problem was cleared, nor wait a minute for the next one."""
        with self._lock:
            camera = self._cameras.get(camera_id)
            if camera is not None:
                camera.look = True

    def _wanted(self, camera: _Camera) -> bool:
        watched = {p for z in camera.zones.values() for p in z.classes}
        return bool(self.scene_config.enabled and watched & self.scene_classes)

    def measure(self, frames: Sequence[Frame]) -> None:
        """Segment and score the frames that are due (a batch of the inference loop's)."""
        due_scene: list[tuple[_Camera, Frame]] = []
        due_heads: list[tuple[_Camera, Frame]] = []
        with self._lock:
            for frame in frames:
                camera = self._cameras.get(frame.camera_id)
                if camera is None:
                    continue
                camera.frames += 1
                look, camera.look = camera.look, False
                # The first frame, then one in N: a camera has evidence from its start.
                if self._wanted(camera) and (look or (camera.frames - 1) % self.scene_config.every_n_frames == 0):
                    due_scene.append((camera, frame))
                if camera.heads and self.classifier_config.enabled and (
                        look or (camera.frames - 1) % self.classifier_config.every_n_frames == 0):
                    due_heads.append((camera, frame))
        if due_scene:
            maps = self.segmenter.segment([frame.image for _camera, frame in due_scene])
            self.segmented += len(maps)
            with self._lock:  # the label thread may be raising a clear level meanwhile
                for (camera, frame), scene_map in zip(due_scene, maps, strict=True):
                    for zone_id, groups in camera.scene.update(scene_map).items():
                        old = camera.latest.get(zone_id)
                        camera.latest[zone_id] = ZoneReading(frame.ts_s, groups, old.scores if old else {},
                                                              old.labels_used if old else {})
        for camera, frame in due_heads:
            self._score(camera, frame)

    def _score(self, camera: _Camera, frame: Frame) -> None:
        """Each zone's crop is embedded once, whatever number of classes its heads score."""
        zone_ids = sorted({zone_id for zone_id, _ in camera.heads})
        crops = [crop_zone(frame.image, camera.zones[zone_id].polygon) for zone_id in zone_ids]
        embeddings = dict(zip(zone_ids, self.encoder.embed(crops), strict=True))
        self.scored += len(zone_ids)
        for (zone_id, problem), head in list(camera.heads.items()):
            old = camera.latest.get(zone_id) or ZoneReading(frame.ts_s)
            scores = {**old.scores, problem: float(head.predict_proba(embeddings[zone_id][None, :])[0])}
            used = {**old.labels_used, problem: int(head.meta.get("n_labels", 0))}
            camera.latest[zone_id] = ZoneReading(frame.ts_s, old.scene, scores, used)

    def latest(self, camera_id: str) -> Mapping[str, ZoneReading]:
        camera = self._cameras.get(camera_id)
        return dict(camera.latest) if camera else {}

    def learn_clear(self, camera_id: str, image: np.ndarray, zone_id: str) -> bool:
        """A frame the centre marked clear for a zone: it raises that zone's clear level."""
        camera = self._cameras.get(camera_id)
        if camera is None or zone_id not in camera.zones or not self.scene_config.enabled:
            return False
        scene_map = self.segmenter.segment([image])[0]
        with self._lock:
            evidence = ZoneSceneEvidence({zone_id: camera.zones[zone_id].polygon}, baseline=camera.scene.baseline)
            evidence.update(scene_map, clear=True)
        return True

    def embed_zone(self, camera_id: str, image: np.ndarray, zone_id: str) -> np.ndarray | None:
        camera = self._cameras.get(camera_id)
        if camera is None or zone_id not in camera.zones:
            return None
        return self.encoder.embed([crop_zone(image, camera.zones[zone_id].polygon)])[0]
