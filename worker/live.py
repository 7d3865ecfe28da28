"""One worker process, many cameras: decoding in parallel, one detector fed in micro-batches.

Each camera's feed thread decodes into a bounded queue (PyAV releases the GIL while decoding);
the inference loop takes up to `batch_size` frames across cameras, waiting at most
`max_wait_ms` to fill a batch, and runs them through one detector call. A camera that fails
is reported and retried by its source; nothing a camera does can stop the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bus import SnapshotStore
from bus.control import VerifyRequest, WhatIfRequest
from detector import Detector
from streams import CameraState, Frame, open_source
from worker.config import CameraConfig, WorkerConfig
from worker.control_handler import CameraControls, ZonesApplied
from worker.feeds import CameraFeed, FrameQueues
from worker.pipeline import CameraPipeline
from worker.recorder import CameraRecorder
from worker.runner import EventSink, model_size
from worker.second_look import SecondLook
from worker.snapshot_writer import EvidenceWriter
from worker.stages import StageClock
from worker.verification import CameraChecks, ResultSink
from worker.zone_readings import ZoneReader
from zones import Event, ZoneConfig
from zones.homography import Homography

if TYPE_CHECKING:
    from worker.metrics import WorkerMetrics
    from worker.whatif_jobs import WhatIfRunner

log = logging.getLogger(__name__)

HealthSink = Callable[[list[dict[str, Any]]], None]
AnalysedHook = Callable[[Frame, list[Event]], None]
EVIDENCE_TOLERANCE_S = 0.5  # a main-stream key frame this close to the analysed moment shows the same scene


class Worker:
    def __init__(
        self,
        config: WorkerConfig,
        sink: EventSink,
        evidence: SnapshotStore | None = None,
        detector: Detector | None = None,
        health_sink: HealthSink | None = None,
        cameras: list[CameraConfig] | None = None,
        verify_sink: ResultSink | None = None,
        recording_dir: Path | None = None,
        on_analysed: AnalysedHook | None = None,
    ) -> None:
        self.config = config
        self.stages = StageClock()  # CPU of the inference thread per stage (metrics, bench pipeline)
        self.on_analysed = on_analysed  # after each frame and its events are handed over (latency benchmarks)
        self.verify_sink = verify_sink
        self.metrics: WorkerMetrics | None = None  # set by whoever serves them
        self.recording_dir = recording_dir if config.recording.minutes > 0 else None
        self.recorders: dict[str, CameraRecorder] = {}
        self.zone_readings = ZoneReader(config.scene, config.classifiers, config.calibration)
        self.sink = sink
        self.snapshots = evidence
        self.writer = EvidenceWriter(evidence, sink)  # pictures off the inference thread; events after them
        self.health_sink = health_sink
        self.cameras = list(config.cameras if cameras is None else cameras)
        self.detector = detector or Detector(config.detector)
        self.second_look = SecondLook(config.second_look, model_size(self.detector))
        self.stop_event = threading.Event()
        self.queues = FrameQueues(config.scheduler.queue_size)
        self.pipelines: dict[str, CameraPipeline] = {}
        self.controls = CameraControls(self.pipelines, self.zone_readings, self.writer.deliver)
        self.feeds: dict[str, CameraFeed] = {}
        self.main_streams: dict[str, CameraFeed] = {}  # cameras analysed on a substream
        self.frames_processed: dict[str, int] = {}
        self.batches = 0
        self._closed: set[str] = set()
        self._snapshot_due: dict[str, float] = {}
        self._inference = threading.Thread(target=self._inference_loop, name="inference", daemon=True)

    def start(self) -> None:
        labels = frozenset(self.detector.labels)
        for camera in self.cameras:
            checks = CameraChecks(camera.id, camera.zones, self.config.rules, labels, self.snapshots,
                                  self.verify_sink, self.zone_readings) if self.verify_sink is not None else None
            self.zone_readings.set_zones(camera.id, camera.zones)
            self.pipelines[camera.id] = CameraPipeline(camera, self.config.rules, self.config.tracker, labels, checks,
                                                       self.zone_readings.classes_for(camera.id), self.stages)
            self.queues.add_camera(camera.id)
            if self.recording_dir is not None:
                self.recorders[camera.id] = CameraRecorder(self.recording_dir, camera.id, self.config.recording)
            self.frames_processed[camera.id] = 0
            self.feeds[camera.id] = CameraFeed(open_source(camera.id, camera.source, self.stop_event),
                                               self.queues, self.stop_event)
            if camera.source.analysis_url is not None and self.snapshots is not None:
                main = camera.source.model_copy(update={"analysis_url": None, "decode": "keyframes",
                                                        "analysis_fps": None})
                self.main_streams[camera.id] = CameraFeed(open_source(camera.id, main, self.stop_event), None,
                                                          self.stop_event, role="main")
        for feed in [*self.feeds.values(), *self.main_streams.values()]:
            feed.start()
        self._inference.start()
        threading.Thread(target=self._health_loop, name="health", daemon=True).start()

    def submit_check(self, request: VerifyRequest) -> bool:
        """A verification request from the API; False when this worker does not run that camera."""
        return self.controls.submit_check(request)

    def submit_whatif(self, request: WhatIfRequest) -> bool:
        """Run a what-if for one of this worker's cameras, against the zones it uses now."""
        return self.controls.submit_whatif(request)

    def replace_zones(self, camera_id: str, zones: list[ZoneConfig], token: object = None,
                      homography: Homography | None = None) -> bool:
        """New zones for a camera from its next analysed frame (any thread); see `CameraControls.replace_zones`."""
        return self.controls.replace_zones(camera_id, zones, token, homography)

    @property
    def whatif(self) -> WhatIfRunner | None:
        return self.controls.whatif

    @whatif.setter
    def whatif(self, runner: WhatIfRunner | None) -> None:
        self.controls.whatif = runner

    @property
    def on_zones_applied(self) -> ZonesApplied | None:
        return self.controls.on_zones_applied

    @on_zones_applied.setter
    def on_zones_applied(self, hook: ZonesApplied | None) -> None:
        self.controls.on_zones_applied = hook

    def stop(self) -> None:
        self.stop_event.set()
        with self.queues.cond:
            self.queues.cond.notify_all()

    def join(self, timeout: float | None = None) -> None:
        """The inference thread, then the evidence writer's last events (a stuck share: they go without pictures)."""
        started = time.monotonic()
        self._inference.join(timeout)
        if not self._inference.is_alive():
            self.writer.join(None if timeout is None else max(0.0, timeout - (time.monotonic() - started)))

    @property
    def inference_thread_id(self) -> int | None:
        """The kernel's id of the inference thread, to read its CPU time (bench pipeline)."""
        return self._inference.native_id

    @property
    def alive(self) -> bool:
        return self._inference.is_alive()

    def health(self) -> list[dict[str, Any]]:
        reports = []
        for camera_id, feed in self.feeds.items():
            report = feed.health.to_dict()
            report["frames_processed"] = self.frames_processed[camera_id]
            report["queued"] = self.queues.pending(camera_id)
            report["open_episodes"] = sum(r.open_episodes for r in self.pipelines[camera_id].rules)
            checks = self.pipelines[camera_id].checks
            report["open_checks"] = checks.open if checks is not None else 0
            report["uncovered"] = sorted(p.value for p in self.pipelines[camera_id].uncovered)
            reports.append(report)
        return reports

    def _inference_loop(self) -> None:
        """Runs until stopped, or until every (clip) feed has ended and been drained."""
        while not self.stop_event.is_set():
            batch = self._collect()
            if batch:
                self._run_batch(batch)
            self._close_finished()
            if self._all_feeds_idle() and not self.queues.any_pending():
                break
        for recorder in self.recorders.values():
            recorder.close()
        self.writer.finish()
        self._publish_health()

    def _collect(self) -> list[Frame]:
        scheduler = self.config.scheduler
        with self.queues.cond:
            if not self.queues.any_pending():
                self.queues.cond.wait(0.5)
            batch = self.queues.take_round(scheduler.batch_size)
            deadline = time.monotonic() + scheduler.max_wait_ms / 1000
            while batch and len(batch) < scheduler.batch_size and not self.stop_event.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._all_feeds_idle():
                    break
                self.queues.cond.wait(remaining)
                batch += self.queues.take_round(scheduler.batch_size - len(batch))
        return batch

    def _all_feeds_idle(self) -> bool:
        """Nothing more can arrive soon: every feed has ended (clips), so do not wait to fill a batch."""
        return all(feed.finished.is_set() for feed in self.feeds.values())

    def _run_batch(self, batch: list[Frame]) -> None:
        started = time.perf_counter()
        try:
            with self.stages.measure("inference"):
                detections = self.second_look.detect(self.detector.detect, batch,
                                                     lambda camera_id: self.pipelines[camera_id].zones)
        except Exception:  # a model failure loses this batch, not the worker
            log.exception("inference failed for a batch of %d frames", len(batch))
            return
        if self.metrics is not None:
            self.metrics.inference_seconds.observe(time.perf_counter() - started)
            self.metrics.batch_frames.observe(len(batch))
        self.batches += 1
        self._measure_zones(batch)
        for frame, found in zip(batch, detections, strict=True):
            try:
                self.controls.apply_new_zones(frame)
                pipeline = self.pipelines[frame.camera_id]
                events = pipeline.cover(self.zone_readings.classes_for(frame.camera_id))
                events += pipeline.process(frame, found, self.zone_readings.latest(frame.camera_id))
                self.zone_readings.observe(frame.camera_id, events)  # open episodes keep a zone from learning
                self.frames_processed[frame.camera_id] += 1
                recorder = self.recorders.get(frame.camera_id)
                if recorder is not None:
                    recorder.record(frame, found)
                if events:
                    with self.stages.measure("publishing"):
                        self.writer.deliver(events, self._evidence_frame(frame))
                if self.metrics is not None:
                    self.metrics.frame_age_seconds.observe(time.time() - frame.captured_at)
                if self.on_analysed is not None:
                    self.on_analysed(frame, events)
            except Exception:
                log.exception("camera %s: frame %d failed", frame.camera_id, frame.seq)

    def _measure_zones(self, batch: list[Frame]) -> None:
        """Scene evidence and zone classifiers at their low rate; a failure costs their evidence, not the frames."""
        started = time.perf_counter()
        try:
            with self.stages.measure("zone_readings"):
                self.zone_readings.measure(batch)
        except Exception:
            log.exception("zone-level evidence failed for a batch of %d frames", len(batch))
        if self.metrics is not None:
            self.metrics.zone_readings_seconds.observe(time.perf_counter() - started)

    def _evidence_frame(self, analysed: Frame) -> Frame:
        """The main stream's key frame of the analysed frame's moment when the camera is analysed on a substream
        (boxes are normalised, so they land right at any resolution); else the analysed frame itself: never a
        later picture than the one the detection came from."""
        main = self.main_streams.get(analysed.camera_id)
        if main is None or main.health.state is not CameraState.ONLINE:
            return analysed
        return main.frame_near(analysed.ts_s, EVIDENCE_TOLERANCE_S) or analysed

    def _close_finished(self) -> None:
        """A clip that ended closes its open episodes, as a replay does."""
        for camera_id, feed in self.feeds.items():
            if camera_id in self._closed or not feed.finished.is_set() or self.queues.pending(camera_id):
                continue
            self._closed.add(camera_id)
            if feed.latest is not None and not feed.source.config.is_live:
                events = self.pipelines[camera_id].close(feed.latest.ts_s)
                if events:
                    self.writer.deliver(events, None)

    def _health_loop(self) -> None:
        interval = self.config.scheduler.health_every_s
        while not self.stop_event.wait(interval):
            self._save_snapshots()
            self._publish_health()

    def _publish_health(self) -> None:
        if self.health_sink is not None:
            try:
                self.health_sink(self.health())
            except Exception:
                log.exception("publishing camera health failed")

    def _save_snapshots(self) -> None:
        if self.snapshots is None:
            return
        now = time.monotonic()
        for camera_id, feed in self.feeds.items():
            frame = feed.latest
            if frame is None or now < self._snapshot_due.get(camera_id, 0.0):
                continue
            try:
                feed.health.snapshot = self.snapshots.save_snapshot(camera_id, frame.image)
            except OSError as exc:
                log.warning("camera %s: snapshot not saved: %s", camera_id, exc)
            self._snapshot_due[camera_id] = now + self.config.scheduler.snapshot_every_s
