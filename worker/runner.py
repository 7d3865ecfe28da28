"""Drive cameras through the pipeline and hand their events to a sink.

The same `run_camera` loop serves a live worker and a replay, so what a tester
measures on a clip is what a camera would raise.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from detector import Detector
from events import EvidenceStore
from streams import Frame, SourceError, open_source
from worker.config import CameraConfig, WorkerConfig
from worker.pipeline import CameraPipeline
from zones import Event, EventState, ProblemClass

log = logging.getLogger(__name__)

EventSink = Callable[[list[Event]], None]


@dataclass
class CameraRun:
    """What one camera did: enough for a health line and for tests."""

    camera_id: str
    frames: int = 0
    events: list[Event] = field(default_factory=list)
    last_ts_s: float | None = None
    error: str | None = None
    covered: frozenset[ProblemClass] = frozenset()  # classes a rule ran for on this camera
    uncovered: frozenset[ProblemClass] = frozenset()  # watched, but no loaded model sees them


def run_camera(
    frames: Iterable[Frame],
    detector: Detector,
    pipeline: CameraPipeline,
    sink: EventSink,
    evidence: EvidenceStore | None = None,
    close_at_end: bool = False,
    stop: threading.Event | None = None,
    detector_lock: threading.Lock | None = None,
    keep_events: bool = True,
    on_frame: Callable[[Frame], None] | None = None,
) -> CameraRun:
    run = CameraRun(
        pipeline.camera.id,
        covered=frozenset(rule.problem for rule in pipeline.rules),
        uncovered=frozenset(pipeline.uncovered),
    )
    lock = detector_lock or threading.Lock()
    for frame in frames:
        if stop is not None and stop.is_set():
            break
        with lock:
            detections = detector.detect([frame.image])[0]
        events = pipeline.process(frame, detections)
        run.frames += 1
        run.last_ts_s = frame.ts_s
        if events:
            _deliver(events, frame, evidence, sink, run, keep_events)
        if on_frame is not None:
            on_frame(frame)
    if close_at_end and run.last_ts_s is not None:
        events = pipeline.close(run.last_ts_s)
        if events:
            _deliver(events, None, evidence, sink, run, keep_events)
    return run


def _deliver(
    events: list[Event],
    frame: Frame | None,
    evidence: EvidenceStore | None,
    sink: EventSink,
    run: CameraRun,
    keep_events: bool,
) -> None:
    if evidence is not None and frame is not None:
        events = [
            e.model_copy(update={"evidence": evidence.save(e, frame.image)}) if e.state is EventState.START else e
            for e in events
        ]
    sink(events)
    if keep_events:
        run.events.extend(events)
    for event in events:
        log.info(
            "%s %s %s camera=%s zone=%s t=%.1fs conf=%.2f",
            event.state, event.problem, event.event_id[:8], event.camera_id, event.zone_id,
            event.ts_s, event.confidence,
        )


def replay(
    config: WorkerConfig,
    camera: CameraConfig,
    sink: EventSink,
    evidence: EvidenceStore | None = None,
    detector: Detector | None = None,
    on_frame: Callable[[Frame], None] | None = None,
) -> CameraRun:
    """One clip through the whole pipeline as fast as the machine allows; open episodes end with the clip."""
    detector = detector or Detector(config.detector)
    pipeline = CameraPipeline(camera, config.rules, config.tracker, detector.labels)
    source = open_source(camera.id, camera.source)
    return run_camera(
        source, detector, pipeline, sink, evidence, close_at_end=not camera.source.loop, on_frame=on_frame
    )


class Worker:
    """Runs every configured camera in its own thread around one shared detector.

    A camera that fails is logged with its error and stops alone; the others go on.
    """

    def __init__(
        self,
        config: WorkerConfig,
        sink: EventSink,
        evidence: EvidenceStore | None = None,
        detector: Detector | None = None,
    ) -> None:
        self.config = config
        self.sink = sink
        self.evidence = evidence
        self.detector = detector or Detector(config.detector)
        self.stop_event = threading.Event()
        self.runs: dict[str, CameraRun] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for camera in self.config.cameras:
            thread = threading.Thread(target=self._run, args=(camera,), name=f"camera-{camera.id}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def join(self, timeout: float | None = None) -> None:
        for thread in self._threads:
            thread.join(timeout)

    def stop(self) -> None:
        self.stop_event.set()

    @property
    def alive(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def _run(self, camera: CameraConfig) -> None:
        try:
            pipeline = CameraPipeline(camera, self.config.rules, self.config.tracker, self.detector.labels)
            source = open_source(camera.id, camera.source)
            self.runs[camera.id] = run_camera(
                source, self.detector, pipeline, self.sink, self.evidence,
                close_at_end=not camera.source.loop, stop=self.stop_event,
                detector_lock=self._lock, keep_events=False,
            )
        except SourceError as exc:
            log.error("camera %s stopped: %s", camera.id, exc)
            self.runs[camera.id] = CameraRun(camera.id, error=str(exc))
        except Exception as exc:  # one camera's failure must not take the worker down
            log.exception("camera %s failed", camera.id)
            self.runs[camera.id] = CameraRun(camera.id, error=f"{type(exc).__name__}: {exc}")
