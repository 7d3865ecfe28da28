"""The learning loop on a worker: labels from the centre become zone classifiers and clear levels.

Each label (a confirmed or dismissed case, or an operator marking a snapshot) names a camera, zone and class,
says problem or clear, and points at the picture it was said of. The worker that runs the camera embeds the
zone's crop and files it with that zone's HeadTrainer; when enough new labels arrived it trains a new head,
which replaces the old one only if it does no worse on the zone's held-back labels. A clear label also raises
the zone's clear level for the segmenter.

The label stream is the record: a starting worker replays it from its start, which rebuilds every trainer and
clear level; the heads it trained are also kept on disk (`heads_dir`), so that a restarted worker scores its
zones at once, before the replay is through. Heads are reported on Redis for the API's coverage report.
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
from bus.labels import LabelMessage, heads_key
from worker.zone_readings import ZoneReader
from zones import ProblemClass
from zones.classifier import HeadTrainer, RetrainPolicy, ZoneClassifier

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

    def _folder(self, camera_id: str) -> Path:
        folder = self.heads_dir / _SAFE.sub("_", camera_id)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _head_path(self, camera_id: str, zone_id: str, problem: ProblemClass) -> Path:
        return self._folder(camera_id) / f"{_SAFE.sub('_', zone_id)}__{problem.value}.json"

    def load(self) -> int:
        """The heads kept from earlier runs, for this worker's cameras (an unreadable one is skipped)."""
        loaded = 0
        for camera_id in self.cameras:
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
        path = (self.media_dir / label.image).resolve()
        image = cv2.imread(str(path)) if path.is_relative_to(self.media_dir) else None
        if image is None:
            log.warning("label %d: picture %s unreadable; skipped", label.label_id, label.image)
            return
        if not label.positive:
            self.source.learn_clear(label.camera_id, image, label.zone_id)
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
