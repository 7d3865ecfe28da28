"""Zone-level evidence on a worker: the scene segmenter and the zone classifiers, at a low rate, for the cameras
whose zones watch a class they can show.

Every `every_n_frames`-th analysed frame of such a camera is segmented (zones/scene.py: shares above each
zone's clear level) and, where a zone has a trained head, its crop embedded and scored (zones/classifier.py).
The latest measurement of each zone is what the rules read on every frame until the next one: these
problems change over minutes, so a few seconds' staleness costs nothing and keeps the cost a fraction of
detection's (docs/performance.md). Labels from the centre teach both: a clear frame raises a zone's clear
level, every label feeds that zone's head (worker/labels.py). An operator's "clear now" calibrates a zone from
its next frame and the shares kept from its last minutes, and quiet frames keep the level up afterwards
(worker/calibration.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from detector.encoder import EncoderConfig, ImageEncoder
from detector.scene import SceneSegmenter
from streams import Frame
from worker.calibration import CalibrationConfig, Pending, QuietWatch
from zones import Event, ProblemClass, ZoneConfig
from zones.classifier import RetrainPolicy, ZoneClassifier, crop_zone
from zones.coverage import zone_class_states
from zones.readings import ZoneReading
from zones.scene import SceneBaseline, ZoneSceneEvidence, zone_shares

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
    def __init__(self, zones: Sequence[ZoneConfig], baseline: SceneBaseline, quiet: QuietWatch) -> None:
        self.zones = {z.id: z for z in zones}
        self.quiet = quiet
        self.scene = ZoneSceneEvidence(list(zones), baseline=baseline)
        self.heads: dict[tuple[str, ProblemClass], ZoneClassifier] = {}
        self.latest: dict[str, ZoneReading] = {}
        self.frames = 0
        self.look = False  # measure at the next frame, whatever the rate (a camera check asked)


class ZoneReader:
    """One per worker; `measure` runs on the inference thread, label learning may come from another."""

    def __init__(self, scene: SceneReadingConfig, classifier: ClassifierConfig,
                 calibration: CalibrationConfig | None = None) -> None:
        self.scene_config = scene
        self.classifier_config = classifier
        self.calibration_config = calibration or CalibrationConfig()
        # Called (camera id, outside the lock) after a calibration or quiet frames changed a camera's levels.
        self.on_baseline: Callable[[str], None] | None = None
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
                self._cameras[camera_id] = _Camera(zones, baseline or SceneBaseline(),
                                                   QuietWatch(self.calibration_config))
                return
            changed = [z for z_id, z in camera.zones.items() if z_id not in {x.id for x in zones}
                       or next(x for x in zones if x.id == z_id).polygon != z.polygon]
            camera.scene.baseline.forget(z.id for z in changed)
            fresh = _Camera(zones, camera.scene.baseline, camera.quiet)
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
        changed: set[str] = set()
        if due_scene:
            maps = self.segmenter.segment([frame.image for _camera, frame in due_scene])
            self.segmented += len(maps)
            with self._lock:  # the label thread may be raising a clear level meanwhile
                for (camera, frame), scene_map in zip(due_scene, maps, strict=True):
                    shares = zone_shares(scene_map, camera.scene.zones, camera.scene.groups)
                    for zone_id, groups in camera.scene.baseline.readings(shares).items():
                        old = camera.latest.get(zone_id)
                        camera.latest[zone_id] = ZoneReading(frame.ts_s, groups, old.scores if old else {},
                                                              old.labels_used if old else {})
                    # Measured against the old level first, then learnt: a frame never excuses itself.
                    watched = {z_id: z.classes for z_id, z in camera.zones.items()}
                    if camera.quiet.after_segment(frame.ts_s, shares, camera.scene.baseline, watched):
                        changed.add(frame.camera_id)
        for camera_id in sorted(changed):
            if self.on_baseline is not None:
                self.on_baseline(camera_id)
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

    def observe(self, camera_id: str, events: Sequence[Event]) -> None:
        """The camera's events after each frame (inference thread): open episodes keep their zone from learning."""
        camera = self._cameras.get(camera_id)
        if camera is not None and events:
            with self._lock:
                camera.quiet.observe(events)

    def note_problem_label(self, camera_id: str, zone_id: str) -> None:
        """A problem label on the zone (label thread): its frames are not clear for a while of frame time."""
        camera = self._cameras.get(camera_id)
        if camera is not None:
            with self._lock:
                camera.quiet.note_problem_label(zone_id)

    def request_calibration(self, camera_id: str, zone_id: str, minutes: float) -> Pending | None:
        """'This zone is clear now' (any thread): answered at the camera's next frame, `done` set then; refused at
        once (`refused` set) when it cannot be; None when this worker does not run the camera."""
        camera = self._cameras.get(camera_id)
        if camera is None:
            return None
        pending = Pending(zone_id, minutes)
        zone = camera.zones.get(zone_id)
        with self._lock:
            if zone is None:
                pending.refused = f"区域不存在 / camera {camera_id} has no zone {zone_id}"
            elif not self.scene_config.enabled or not set(zone.classes) & self.scene_classes:
                pending.refused = "区域未关注分割模型可见的类别 / the zone watches no class the segmenter shows"
            else:
                pending.refused = camera.quiet.why_not_quiet(zone_id, camera.quiet.last_ts)
            if pending.refused is None:
                camera.quiet.pending.append(pending)
                camera.look = True
            else:
                pending.done.set()
        return pending

    def cancel_calibration(self, camera_id: str, pending: Pending) -> bool:
        """Withdraw a calibration nobody waits for any more; False when it was answered meanwhile."""
        camera = self._cameras.get(camera_id)
        with self._lock:
            if camera is not None and pending in camera.quiet.pending:
                camera.quiet.pending.remove(pending)
            return not pending.done.is_set()

    def coverage(self, camera_id: str) -> list[dict[str, object]]:
        """Per zone and class: uncalibrated, calibrated (N frames) or learnt (N labels), for the camera's health."""
        camera = self._cameras.get(camera_id)
        if camera is None:
            return []
        with self._lock:
            heads = {key: int(head.meta.get("n_labels") or 0) or 1 for key, head in camera.heads.items()}
            states = zone_class_states(camera_id, {z_id: z.classes for z_id, z in camera.zones.items()},
                                       camera.scene.baseline, heads, self.scene_classes,
                                       camera.scene.baseline.config.min_samples)
        return [state.model_dump(by_alias=True, exclude={"camera_id"}) for state in states]

    def adopt_baseline(self, camera_id: str, baseline: SceneBaseline) -> bool:
        """A baseline kept from an earlier run (worker/labels.py), for a camera this reader runs."""
        camera = self._cameras.get(camera_id)
        if camera is None:
            return False
        with self._lock:
            baseline.forget(z for z in baseline.zones() if z not in camera.zones)
            camera.scene.baseline = baseline
        return True

    def baseline_json(self, camera_id: str) -> str | None:
        camera = self._cameras.get(camera_id)
        if camera is None:
            return None
        with self._lock:
            return camera.scene.baseline.to_json()

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
            shares = zone_shares(scene_map, {zone_id: camera.zones[zone_id].polygon}, camera.scene.groups)
            camera.scene.baseline.learn(shares, "label")
        return True

    def embed_zone(self, camera_id: str, image: np.ndarray, zone_id: str) -> np.ndarray | None:
        camera = self._cameras.get(camera_id)
        if camera is None or zone_id not in camera.zones:
            return None
        return self.encoder.embed([crop_zone(image, camera.zones[zone_id].polygon)])[0]
