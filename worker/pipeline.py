"""One camera's path from detections to events: track, place in zones, apply rules."""

from __future__ import annotations

import logging

import numpy as np

from detector import Detections, Tracker, TrackerConfig
from streams import Frame
from worker.config import CameraConfig
from worker.verification import CameraChecks
from zones import (
    CLASS_INFO,
    Coverage,
    Event,
    ProblemClass,
    Rule,
    RulesConfig,
    ZoneMap,
    anchor_points,
    build_rule,
    class_coverage,
    normalise_boxes,
)

log = logging.getLogger(__name__)


class CameraPipeline:
    """Everything after the detector for one camera; detection itself is batched outside.

    A class gets a rule only when the loaded models can see it (`model_labels` are their evidence
    labels); a watched class nobody can see is reported in `uncovered` and raises nothing.
    """

    def __init__(
        self,
        camera: CameraConfig,
        rules: RulesConfig,
        tracker: TrackerConfig,
        model_labels: set[str] | frozenset[str],
        checks: CameraChecks | None = None,
    ) -> None:
        self.camera = camera
        self.checks = checks
        self.zone_map = ZoneMap(camera.zones)
        self.zone_ids = [z.id for z in camera.zones]
        self._tracker_config = tracker
        self.tracker = self._new_tracker()
        self._frame_size: tuple[int, int] | None = None
        self.rules: list[Rule] = []
        self.uncovered: set[ProblemClass] = set()
        available = frozenset(model_labels)
        watched = {problem for zone in camera.zones for problem in zone.classes}
        for problem in sorted(watched):
            if class_coverage(problem, available) is Coverage.NONE:
                self.uncovered.add(problem)
                continue
            self.rules.append(build_rule(camera.id, problem, camera.zones, rules, CLASS_INFO[problem].evidence.subject
                                         & available))
        if self.uncovered:
            log.warning(
                "camera %s: no loaded model sees %s; those classes raise nothing here (see `streetwatch models`)",
                camera.id, ", ".join(sorted(self.uncovered)),
            )
        wanted = set().union(*(r.labels | r.helper_labels for r in self.rules)) if self.rules else set()
        self._labels = np.array(sorted(wanted), dtype=object)
        self._scheduled = any(zone.schedule for zone in camera.zones)

    def process(self, frame: Frame, detections: Detections) -> list[Event]:
        if self._frame_size not in (None, (frame.width, frame.height)):
            # A camera that changed resolution: pixel tracks no longer line up, start them afresh.
            log.info("camera %s: resolution changed, tracks restarted", self.camera.id)
            self.tracker = self._new_tracker()
        self._frame_size = (frame.width, frame.height)
        relevant = detections[np.isin(detections.labels, self._labels)] if len(detections) else detections
        tracked = self.tracker.update(relevant, frame.image)
        boxes = normalise_boxes(tracked.xyxy, frame.width, frame.height)
        inside_any_time = self.zone_map.contains(anchor_points(boxes))
        inside = inside_any_time & self._armed(frame.ts_s)[None, :] if self._scheduled else inside_any_time
        events: list[Event] = []
        for rule in self.rules:
            events.extend(rule.update(frame.ts_s, tracked, inside, self.zone_ids, (frame.width, frame.height)))
        if self.checks is not None:  # a verification looks whatever the schedule says
            self.checks.update(frame, tracked, boxes, inside_any_time, self.zone_ids)
        return self._placed(events)

    def _placed(self, events: list[Event]) -> list[Event]:
        """Events carry where the camera stands, so cases land on the map."""
        location = self.camera.location
        if location is None or not events:
            return events
        return [e.model_copy(update={"lon": location[0], "lat": location[1]}) for e in events]

    def close(self, ts_s: float) -> list[Event]:
        return self._placed([event for rule in self.rules for event in rule.close(ts_s)])

    def _new_tracker(self) -> Tracker:
        # Every-frame analysis has no set rate: 25 frames/s turns `lost_s` into a frame count.
        return Tracker(self._tracker_config, self.camera.source.analysis_fps or 25.0)

    def _armed(self, ts_s: float) -> np.ndarray:
        """Zones outside their schedule see nothing, so their episodes clear and none start."""
        moment = self.camera.source.local_time(ts_s)
        return np.array([zone.armed_at(moment) for zone in self.camera.zones], dtype=bool)
