"""The learning loop on a worker: labels from the centre become zone classifiers and clear levels.

Each label (a confirmed or dismissed case, or an operator marking a snapshot) names a camera, zone and class,
says problem or clear, and points at the picture it was said of. The worker that runs the camera embeds the
zone's crop and files it with that zone's HeadTrainer; when enough new labels arrived it trains a new head,
which replaces the old one only if it does no worse on the zone's held-back labels. A clear label also raises
the zone's clear level for the segmenter.

The label stream is the record: a starting worker replays it from its start, which rebuilds every trainer; the
heads it trained are also kept on disk (`heads_dir`), so that a restarted worker scores its zones at once, before
the replay is through. Heads are reported on Redis for the API's coverage report. Clear levels are kept on disk
too (`scene-baseline.json` beside the heads, with the ids of the clear labels already in it, which the replay
then skips): calibrations and quiet frames are no labels, and a restart must not forget them. The learner also
answers the zone editor's "clear now" (`calibrate`, bus/calibration.py).
"""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path

import cv2
import redis

from bus import BusConfig
from bus.calibration import CalibrateAnswer, CalibrateRequest
from bus.labels import LabelMessage, heads_key
from worker.zone_readings import ZoneReader
from zones import ProblemClass
from zones.classifier import HeadTrainer, RetrainPolicy, ZoneClassifier
from zones.scene import SceneBaseline

log = logging.getLogger(__name__)
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


class LabelLearner:
    def __init__(self, source: ZoneReader, media_dir: Path, heads_dir: Path, cameras: set[str],
                 policy: RetrainPolicy | None = None, client: redis.Redis | None = None,
                 bus: BusConfig | None = None) -> None:
        self.source = source
        self.media_dir = media_dir.resolve()
        self.heads_dir = heads_dir
        self.cameras = cameras
        self.policy = policy or RetrainPolicy()
        self.client = client
        self.bus = bus
        self.trainers: dict[tuple[str, str, ProblemClass], HeadTrainer] = {}
        self.learned: set[int] = set()  # label ids, so a label sent twice is learned once
        self.clear_labels: dict[str, set[int]] = {}  # per camera: clear labels already in its kept baseline
        source.on_baseline = self.save_baseline

    def _folder(self, camera_id: str) -> Path:
        folder = self.heads_dir / _SAFE.sub("_", camera_id)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _head_path(self, camera_id: str, zone_id: str, problem: ProblemClass) -> Path:
        return self._folder(camera_id) / f"{_SAFE.sub('_', zone_id)}__{problem.value}.json"

    def _baseline_path(self, camera_id: str) -> Path:
        return self._folder(camera_id) / "scene-baseline.json"

    def save_baseline(self, camera_id: str) -> None:
        """The camera's clear levels, written whole and renamed into place (a crash leaves the old file)."""
        text = self.source.baseline_json(camera_id)
        if text is None or camera_id not in self.cameras:
            return
        path = self._baseline_path(camera_id)
        data = {"baseline": json.loads(text), "clear_labels": sorted(self.clear_labels.get(camera_id, ()))}
        try:
            path.with_suffix(".tmp").write_text(json.dumps(data, separators=(",", ":")))
            path.with_suffix(".tmp").replace(path)
        except OSError as exc:
            log.warning("camera %s: clear levels not kept: %s", camera_id, exc)

    def _load_baseline(self, camera_id: str) -> None:
        path = self._baseline_path(camera_id)
        if not path.is_file():
            return
        try:
            data = json.loads(path.read_text())
            baseline = SceneBaseline.from_dict(data["baseline"])
            labels = {int(i) for i in data.get("clear_labels", [])}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("clear levels %s not loaded (the label replay rebuilds what labels taught): %s", path, exc)
            return
        if self.source.adopt_baseline(camera_id, baseline):
            self.clear_labels[camera_id] = labels

    def load(self) -> int:
        """The heads and clear levels kept from earlier runs, for this worker's cameras (unreadable ones skipped)."""
        loaded = 0
        for camera_id in self.cameras:
            self._load_baseline(camera_id)
            for path in self._folder(camera_id).glob("*__*.json"):
                zone_id, _, problem = path.stem.rpartition("__")
                try:
                    head = ZoneClassifier.load(path)
                    problem_class = ProblemClass(problem)
                except (OSError, ValueError, KeyError) as exc:
                    log.warning("zone classifier %s not loaded: %s", path, exc)
                    continue
                if head.encoder != self.source.classifier_config.encoder.variant:
                    continue  # trained on another encoder's embeddings: the replay trains a new one
                self.source.set_head(camera_id, zone_id, problem_class, head)
                self.trainers[(camera_id, zone_id, problem_class)] = HeadTrainer(head.encoder, self.policy, head)
                loaded += 1
        return loaded

    def __call__(self, label: LabelMessage) -> None:
        if label.camera_id not in self.cameras or label.label_id in self.learned:
            return
        self.learned.add(label.label_id)
        if label.positive:  # even when its picture is gone: the zone showed a problem, its frames are not clear
            self.source.note_problem_label(label.camera_id, label.zone_id)
        path = (self.media_dir / label.image).resolve()
        image = cv2.imread(str(path)) if path.is_relative_to(self.media_dir) else None
        if image is None:
            log.warning("label %d: picture %s unreadable; skipped", label.label_id, label.image)
            return
        if not label.positive and label.label_id not in self.clear_labels.get(label.camera_id, set()) and \
                self.source.learn_clear(label.camera_id, image, label.zone_id):
            self.clear_labels.setdefault(label.camera_id, set()).add(label.label_id)
            self.save_baseline(label.camera_id)
        embedding = self.source.embed_zone(label.camera_id, image, label.zone_id)
        if embedding is None:
            return
        key = (label.camera_id, label.zone_id, label.problem)
        trainer = self.trainers.setdefault(key, HeadTrainer(self.source.classifier_config.encoder.variant,
                                                            self.policy))
        trainer.add(embedding, label.positive)
        report = trainer.maybe_retrain()
        if report.replaced and trainer.head is not None:
            trainer.head.meta.update(n_labels=report.n_labels, balanced_accuracy=report.balanced_new)
            trainer.head.save(self._head_path(*key))
            self.source.set_head(label.camera_id, label.zone_id, label.problem, trainer.head)
            log.info("camera %s zone %s %s: %s (%d labels)", *key, report.reason, report.n_labels)
        self._report(key, trainer, report.reason)

    def _report(self, key: tuple[str, str, ProblemClass], trainer: HeadTrainer, reason: str) -> None:
        if self.client is None or self.bus is None:
            return
        head = trainer.head
        figures = {"camera_id": key[0], "zone_id": key[1], "class": key[2].value, "labels": trainer.seen,
                   "trained": head is not None, "n_labels": head.meta.get("n_labels") if head else None,
                   "balanced_accuracy": head.meta.get("balanced_accuracy") if head else None, "last": reason,
                   "at": time.time()}
        try:
            self.client.hset(heads_key(self.bus), "/".join((key[0], key[1], key[2].value)), json.dumps(figures))
        except redis.RedisError as exc:
            log.warning("zone classifier figures not reported: %s", exc)

    def calibrate(self, request: CalibrateRequest) -> CalibrateAnswer | None:
        """The zone editor's "clear now", on the calibration listener's thread: waits for the camera's next
        frame (at most `calibration.wait_s`); None when this worker does not run the camera."""
        if request.camera_id not in self.cameras:
            return None
        pending = self.source.request_calibration(request.camera_id, request.zone_id, request.minutes)
        if pending is None:
            return None
        answered = pending.done.wait(self.source.calibration_config.wait_s) or \
            not self.source.cancel_calibration(request.camera_id, pending)
        reason = pending.refused if answered else \
            f"摄像头 {request.camera_id} 暂无新画面 / no new frame from camera {request.camera_id}"
        if reason is None:
            log.info("camera %s zone %s calibrated as clear by %s from %d frames", request.camera_id,
                     request.zone_id, request.author or "?", pending.frames)
        return CalibrateAnswer(request_id=request.request_id, camera_id=request.camera_id, zone_id=request.zone_id,
                               ok=reason is None, frames=pending.frames if reason is None else 0,
                               recent_frames=pending.recent_frames if reason is None else 0,
                               frame_ts_s=pending.frame_ts_s, levels=pending.levels if reason is None else {},
                               reason=reason)
