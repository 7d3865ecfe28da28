"""A worker wired to the bus, as `streetwatch worker` and the demo both run it: saved zones and calibrations,
camera health, verification, what-if, the recording, metrics, the control stream that drives them, and the
label stream its zone classifiers learn from."""

from __future__ import annotations

import socket
from pathlib import Path

from bus import HealthPublisher, SnapshotStore, SpoolingPublisher, redis_client
from bus.calibration import CalibrationListener
from bus.control import ControlListener, publish_result
from bus.labels import LabelListener
from settings import AppConfig
from worker import Worker
from worker.config import CameraConfig
from worker.control import adopt_saved_calibrations, control_handler, zones_from_redis
from worker.labels import LabelLearner
from worker.metrics import WorkerMetrics
from worker.whatif_jobs import WhatIfRunner


def recordings_dir(settings: AppConfig) -> Path:
    return Path(settings.recording.dir) if settings.recording.dir else Path(settings.media_dir) / "recordings"


def heads_dir(settings: AppConfig) -> Path:
    configured = settings.classifiers.heads_dir
    return Path(configured) if configured else Path(settings.media_dir) / "heads"


def connected_worker(settings: AppConfig, cameras: list[CameraConfig], sink: SpoolingPublisher,
                     name: str | None = None, metrics: bool = True) -> Worker:
    """Started, listening on the control stream; the caller stops it and closes `sink`."""
    control = redis_client(settings.bus.redis_url)
    cameras = zones_from_redis(control, settings.bus, cameras)  # what operators saved wins over the file

    def answer(result) -> None:  # type: ignore[no-untyped-def]
        publish_result(control, settings.bus, result)

    health = HealthPublisher(settings.bus, worker_name=name or socket.gethostname())
    worker = Worker(settings, sink, SnapshotStore(settings.media_dir), cameras=cameras, health_sink=health,
                    verify_sink=answer, recording_dir=recordings_dir(settings))
    worker.whatif = WhatIfRunner(settings, recordings_dir(settings), Path(settings.media_dir),
                                 frozenset(worker.detector.labels), answer)
    if metrics and settings.scheduler.metrics_port:
        worker.metrics = WorkerMetrics(worker, sink)
        worker.metrics.serve(settings.scheduler.metrics_port)
    worker.start()
    adopt_saved_calibrations(worker, control, settings.bus)
    ControlListener(settings.bus, control_handler(worker, sink, control, settings.bus), worker.stop_event,
                    control).start()
    learner = LabelLearner(worker.zone_readings, Path(settings.media_dir), heads_dir(settings),
                           {camera.id for camera in cameras}, settings.classifiers.retrain, control, settings.bus)
    learner.load()
    health.coverage = worker.zone_readings.coverage
    LabelListener(settings.bus, learner, worker.stop_event).start()
    CalibrationListener(settings.bus, learner.calibrate, worker.stop_event).start()
    return worker
