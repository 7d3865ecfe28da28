"""Replays: one camera through the pipeline, frame by frame, losing nothing.

`worker.live.Worker` runs the same `CameraPipeline` and `deliver` for many live cameras, so
what a tester measures on a clip is what a camera would raise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bus import SnapshotStore
from detector import Detector
from streams import Frame, open_source
from worker.config import CameraConfig, WorkerConfig
from worker.pipeline import CameraPipeline
from worker.second_look import SecondLook
from worker.zone_readings import ZoneReader
from zones import Event, EventState, ProblemClass
from zones.scene import SceneBaseline

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
    evidence: SnapshotStore | None = None,
    close_at_end: bool = False,
    on_frame: Callable[[Frame], None] | None = None,
    zone_readings: ZoneReader | None = None,
    second_look: SecondLook | None = None,
) -> CameraRun:
    run = CameraRun(
        pipeline.camera.id,
        covered=frozenset(rule.problem for rule in pipeline.rules),
        uncovered=frozenset(pipeline.uncovered),
    )
    for frame in frames:
        if second_look is not None:
            detections = second_look.detect(detector.detect, [frame], lambda _camera: pipeline.zones)[0]
        else:
            detections = detector.detect([frame.image])[0]
        latest = None
        if zone_readings is not None:
            zone_readings.measure([frame])
            latest = zone_readings.latest(frame.camera_id)
        events = pipeline.process(frame, detections, latest)
        if zone_readings is not None:
            zone_readings.observe(frame.camera_id, events)  # as a live worker: open episodes are never learnt
        run.frames += 1
        run.last_ts_s = frame.ts_s
        if events:
            run.events.extend(deliver(events, frame, evidence, sink))
        if on_frame is not None:
            on_frame(frame)
    if close_at_end and run.last_ts_s is not None:
        events = pipeline.close(run.last_ts_s)
        if events:
            run.events.extend(deliver(events, None, evidence, sink))
    return run


def deliver(
    events: list[Event], frame: Frame | None, evidence: SnapshotStore | None, sink: EventSink
) -> list[Event]:
    """Attach the evidence snapshot to each `start`, hand the events to the sink, log them (a replay, in line;
    the live worker writes pictures on a thread of its own, `worker.snapshot_writer`)."""
    if evidence is not None and frame is not None:
        events = [
            e.model_copy(update={"snapshot": evidence.save(e, frame.image)}) if e.state is EventState.START else e
            for e in events
        ]
    return hand_over(events, sink)


def hand_over(events: list[Event], sink: EventSink) -> list[Event]:
    """Give the events to the sink and log each one."""
    sink(events)
    for event in events:
        log.info(
            "%s %s %s camera=%s zone=%s t=%.1fs conf=%.2f",
            event.state, event.problem, event.event_id[:8], event.camera_id, event.zone_id,
            event.ts_s, event.confidence,
        )
    return events


def replay(
    config: WorkerConfig,
    camera: CameraConfig,
    sink: EventSink,
    evidence: SnapshotStore | None = None,
    detector: Detector | None = None,
    on_frame: Callable[[Frame], None] | None = None,
    baseline: SceneBaseline | None = None,
) -> CameraRun:
    """One clip through the whole pipeline as fast as the machine allows; open episodes end with the clip.
    `baseline`: clear levels the camera starts with (an evaluation's calibrated spans)."""
    detector = detector or Detector(config.detector)
    zone_readings = ZoneReader(config.scene, config.classifiers, config.calibration)
    zone_readings.set_zones(camera.id, camera.zones, baseline)
    pipeline = CameraPipeline(camera, config.rules, config.tracker, detector.labels,
                              zone_level=zone_readings.classes_for(camera.id))
    source = open_source(camera.id, camera.source)
    return run_camera(
        source, detector, pipeline, sink, evidence, close_at_end=not camera.source.loop, on_frame=on_frame,
        zone_readings=zone_readings, second_look=SecondLook(config.second_look, model_size(detector)),
    )


def model_size(detector: Detector) -> int:
    """The input size the whole-frame pass shrinks a frame to (the first model's; Ultralytics' 640 if unset)."""
    return (detector.models[0].imgsz or 640) if detector.models else 640
