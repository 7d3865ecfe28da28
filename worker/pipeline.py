"""One camera's path from detections to events: track, place in zones, apply rules."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from detector import Detections, Tracker, TrackerConfig
from streams import Frame
from worker.config import CameraConfig
from worker.stages import StageClock
from worker.verification import CameraChecks
from zones import CLASS_INFO, Coverage, Event, ProblemClass, Rule, RulesConfig, ZoneConfig, ZoneMap, build_rule
from zones import class_coverage as coverage_of
from zones.context import FrameContext
from zones.homography import Homography
from zones.readings import ZoneReading

log = logging.getLogger(__name__)


class CameraPipeline:
    """Everything after the detector for one camera; detection itself is batched outside.

    A class gets a rule only when the loaded models can see it (`model_labels` are their evidence
    labels); a watched class nobody can see is reported in `uncovered` and raises nothing. Zones can
    be replaced while it runs (`reload_zones`): unchanged zones keep their state.
    """

    def __init__(
        self,
        camera: CameraConfig,
        rules: RulesConfig,
        tracker: TrackerConfig,
        model_labels: set[str] | frozenset[str],
        checks: CameraChecks | None = None,
        zone_level: frozenset[ProblemClass] = frozenset(),
        clock: StageClock | None = None,
    ) -> None:
        self.camera = camera
        self.clock = clock or StageClock()  # a worker shares one across its cameras
        self._zone_level = zone_level  # classes the segmenter or a zone classifier can show on this camera
        self.checks = checks
        self.rules_config = rules
        self._available = frozenset(model_labels)
        self._tracker_config = tracker
        self.tracker = self._new_tracker()
        self._frame_size: tuple[int, int] | None = None
        self._last_ts: float | None = None
        self.rules: list[Rule] = []
        self.uncovered: set[ProblemClass] = set()
        self.rule_failures: Counter[str] = Counter()  # "class/zone" -> frames that rule failed on
        self.homography = Homography.from_pairs(camera.calibration) if camera.calibration else None
        self._set_zones(camera.zones)
        self.rules = [self._rule(problem) for problem in self._covered()]
        self._relabel()

    @property
    def zones(self) -> list[ZoneConfig]:
        return self.zone_map.zones

    def _set_zones(self, zones: Sequence[ZoneConfig]) -> None:
        self.zone_map = ZoneMap(zones)
        self.zone_ids = [z.id for z in zones]
        self._scheduled = any(zone.schedule for zone in zones)
        watched = {problem for zone in zones for problem in zone.classes}
        self.uncovered = {p for p in watched
                          if coverage_of(p, self._available) is Coverage.NONE and p not in self._zone_level}
        if self.uncovered:
            log.warning(
                "camera %s: no loaded model sees %s; those classes raise nothing here (see `streetwatch models`)",
                self.camera.id, ", ".join(sorted(self.uncovered)),
            )

    def _covered(self) -> list[ProblemClass]:
        watched = {problem for zone in self.zones for problem in zone.classes}
        return sorted(watched - self.uncovered)

    def _rule(self, problem: ProblemClass) -> Rule:
        labels = CLASS_INFO[problem].evidence.subject & self._available
        return build_rule(self.camera.id, problem, self.zones, self.rules_config, labels,
                          lost_s=self._tracker_config.lost_s)

    def _relabel(self) -> None:
        wanted = set().union(*(r.labels | r.helper_labels for r in self.rules)) if self.rules else set()
        self._labels = np.array(sorted(wanted), dtype=object)

    def cover(self, zone_level: frozenset[ProblemClass]) -> list[Event]:
        """Zone-level evidence changed what this camera can see (a zone classifier was trained): rules follow."""
        if zone_level == self._zone_level:
            return []
        self._zone_level = zone_level
        return self.reload_zones(self.zones)

    def reload_zones(self, zones: Sequence[ZoneConfig], ts_s: float | None = None,
                     homography: Homography | None = None) -> list[Event]:
        """New zones without a restart: the tracker and the state of unchanged zones survive; episodes in
        changed or deleted zones (and of classes no zone watches any more) end with an `end` event."""
        at = ts_s if ts_s is not None else (self._last_ts or 0.0)
        if homography is not None:
            self.homography = homography
        self._set_zones(zones)
        events: list[Event] = []
        covered = set(self._covered())
        kept: list[Rule] = []
        for rule in self.rules:
            if rule.problem in covered:
                events += rule.retarget(self.zones, self.rules_config.for_class(rule.problem), at)
                kept.append(rule)
            else:
                events += rule.close(at)
        have = {rule.problem for rule in kept}
        self.rules = kept + [self._rule(problem) for problem in sorted(covered - have)]
        self._relabel()
        self.camera = self.camera.model_copy(update={"zones": list(zones)})
        if self.checks is not None:
            self.checks.zones = {z.id: z for z in zones}
        log.info("camera %s: zones now %s", self.camera.id, ", ".join(self.zone_ids) or "none")
        return self._placed(events)

    def process(self, frame: Frame, detections: Detections,
                zone_readings: Mapping[str, ZoneReading] | None = None) -> list[Event]:
        if self._frame_size not in (None, (frame.width, frame.height)):
            # A camera that changed resolution: pixel tracks no longer line up, start them afresh.
            log.info("camera %s: resolution changed, tracks restarted", self.camera.id)
            self.tracker = self._new_tracker()
        self._frame_size = (frame.width, frame.height)
        self._last_ts = frame.ts_s
        with self.clock.measure("tracking"):
            relevant = detections[np.isin(detections.labels, self._labels)] if len(detections) else detections
            tracked = self.tracker.update(relevant, frame.image, frame.ts_s)
        with self.clock.measure("zones_rules"):
            return self._apply_rules(frame, tracked, zone_readings)

    def _apply_rules(self, frame: Frame, tracked: Detections,
                     zone_readings: Mapping[str, ZoneReading] | None) -> list[Event]:
        assert self._frame_size is not None  # set by process
        everywhere = FrameContext.build(frame.ts_s, tracked, self.zone_map, self._frame_size,
                                        zone_readings=zone_readings)
        ctx = everywhere
        if self._scheduled:  # zones outside their schedule see nothing, so their episodes clear and none start
            armed = self._armed(frame.ts_s)
            armed_ids = {zone_id for zone_id, on in zip(self.zone_ids, armed[0], strict=True) if on}
            ctx = FrameContext(frame.ts_s, tracked, everywhere.boxes, everywhere.inside & armed, everywhere.zone_ids,
                               self._frame_size, {z: e for z, e in (zone_readings or {}).items() if z in armed_ids})
        events: list[Event] = []
        for rule in self.rules:
            try:
                events.extend(rule.update(ctx))
            except Exception as exc:  # one rule's failure never costs another rule its events
                self._rule_failed(rule, exc, frame.ts_s)
        if self.checks is not None:  # a verification looks whatever the schedule says
            self.checks.update(frame, tracked, everywhere.boxes, everywhere.inside, self.zone_ids, zone_readings)
        return self._placed(events)

    def _rule_failed(self, rule: Rule, exc: Exception, ts_s: float) -> None:
        """Counted every time, logged with its traceback the first time per class and zone only, so a zone that
        fails on every frame does not flood the log."""
        where = f"{rule.problem.value}/{getattr(exc, 'zone_id', None) or '-'}"
        self.rule_failures[where] += 1
        if self.rule_failures[where] == 1:
            log.exception("camera %s: rule %s failed at %.2f s (zone %s); its events on such frames are lost, "
                          "the other rules go on: %s", self.camera.id, rule.problem.value, ts_s,
                          getattr(exc, "zone_id", None) or "unknown", exc)

    def _placed(self, events: list[Event]) -> list[Event]:
        """Events carry where they are: the anchor's lon/lat through the camera's homography, else where the
        camera stands, so cases land on the map."""
        if not events:
            return events
        if self.homography is not None:
            anchors = np.array([[(e.bbox[0] + e.bbox[2]) / 2, e.bbox[3]] for e in events])
            places = self.homography.to_map(anchors)
            return [e.model_copy(update={"lon": round(float(lon), 7), "lat": round(float(lat), 7)})
                    for e, (lon, lat) in zip(events, places, strict=True)]
        location = self.camera.location
        if location is None:
            return events
        return [e.model_copy(update={"lon": location[0], "lat": location[1]}) for e in events]

    def close(self, ts_s: float) -> list[Event]:
        return self._placed([event for rule in self.rules for event in rule.close(ts_s)])

    def _new_tracker(self) -> Tracker:
        # Every-frame analysis has no set rate: 25 frames/s turns `lost_s` into a frame count.
        return Tracker(self._tracker_config, self.camera.source.analysis_fps or 25.0)

    def _armed(self, ts_s: float) -> np.ndarray:
        moment = self.camera.source.local_time(ts_s)
        return np.array([zone.armed_at(moment) for zone in self.zones], dtype=bool)[None, :]
