"""One camera's path from detections to events: track, place in zones, apply rules."""

from __future__ import annotations

import logging

import numpy as np

from detector import Detections, Tracker, TrackerConfig
from streams import Frame
from worker.config import CameraConfig
from zones import (
    STATIONARY_EVIDENCE,
    Event,
    ProblemClass,
    StationaryDwellRule,
    StationaryRuleConfig,
    ZoneMap,
    anchor_points,
    normalise_boxes,
)

log = logging.getLogger(__name__)


class CameraPipeline:
    """Everything after the detector for one camera; detection itself is batched outside."""

    def __init__(
        self,
        camera: CameraConfig,
        rules: dict[ProblemClass, StationaryRuleConfig],
        tracker: TrackerConfig,
        model_labels: set[str],
    ) -> None:
        self.camera = camera
        self.zone_map = ZoneMap(camera.zones)
        self.zone_ids = [z.id for z in camera.zones]
        self.tracker = Tracker(tracker, camera.source.analysis_fps)
        self.rules: list[StationaryDwellRule] = []
        self.uncovered: set[ProblemClass] = set()
        watched = {problem for zone in camera.zones for problem in zone.classes}
        for problem in sorted(watched):
            evidence = STATIONARY_EVIDENCE.get(problem, frozenset()) & model_labels
            if not evidence:
                self.uncovered.add(problem)
                continue
            self.rules.append(StationaryDwellRule(camera.id, problem, evidence, camera.zones, rules[problem]))
        if self.uncovered:
            log.warning(
                "camera %s: no rule or model covers %s; those classes raise nothing here",
                camera.id, ", ".join(sorted(self.uncovered)),
            )
        self._labels = np.array(sorted(set().union(*(r.evidence_labels for r in self.rules))), dtype=object)

    def process(self, frame: Frame, detections: Detections) -> list[Event]:
        relevant = detections[np.isin(detections.labels, self._labels)] if len(detections) else detections
        tracked = self.tracker.update(relevant, frame.image)
        anchors = anchor_points(normalise_boxes(tracked.xyxy, frame.width, frame.height))
        inside = self.zone_map.contains(anchors)
        events: list[Event] = []
        for rule in self.rules:
            events.extend(rule.update(frame.ts_s, tracked, inside, self.zone_ids, (frame.width, frame.height)))
        return events

    def close(self, ts_s: float) -> list[Event]:
        return [event for rule in self.rules for event in rule.close(ts_s)]
