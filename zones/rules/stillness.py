"""Which tracked objects stand still in which zone, and since when."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from detector import Detections, TrackerConfig
from zones.classes import ProblemClass
from zones.config import RuleParams, ZoneConfig
from zones.event import Event
from zones.geometry import centre_shift, iou
from zones.rules.base import RuleBase

_SAME_OBJECT_IOU = 0.5  # a new track id this close to a lost one is the same standing object
DEFAULT_LOST_S: float = TrackerConfig.model_fields["lost_s"].default

Key = tuple[int, str]  # (track id, zone id)


@dataclass
class Still:
    reference: np.ndarray  # normalised box where it settled
    box: np.ndarray
    since_s: float
    last_seen_s: float
    label: str
    confidence: float
    frames: int = 1
    frames_with_person: int = 0


class StillObjects:
    """Per (track, zone) stillness, robust to the tracker giving a parked object a new id.

    Kept only for objects seen within the caller's clear time, so state never grows with time.
    """

    def __init__(self) -> None:
        self.states: dict[Key, Still] = {}

    def get(self, key: Key) -> Still | None:
        return self.states.get(key)

    def observe(
        self, key: Key, ts_s: float, box: np.ndarray, label: str, confidence: float, max_shift: float,
        present_tracks: set[int],
    ) -> tuple[Still, Key | None, bool]:
        """Record a sighting. Returns the state, the key it was adopted from (if any), and whether it moved."""
        still = self.states.get(key)
        adopted_from = None
        if still is None:
            adopted_from = self._adopt_lost(key, box, present_tracks)
            still = self.states.get(key)
        if still is not None and centre_shift(still.reference, box) > max_shift:
            self.states[key] = Still(box, box, ts_s, ts_s, label, confidence)
            return self.states[key], adopted_from, True
        if still is None:
            self.states[key] = Still(box, box, ts_s, ts_s, label, confidence)
            return self.states[key], None, False
        still.box, still.last_seen_s, still.label = box, ts_s, label
        still.confidence = max(still.confidence, confidence)
        still.frames += 1
        return still, adopted_from, False

    def _adopt_lost(self, key: Key, box: np.ndarray, present_tracks: set[int]) -> Key | None:
        zone_id = key[1]
        for old_key, old in list(self.states.items()):
            if old_key[1] != zone_id or old_key[0] in present_tracks:
                continue
            if iou(old.box, box) >= _SAME_OBJECT_IOU:
                self.states[key] = self.states.pop(old_key)
                return old_key
        return None

    def forget_older_than(self, ts_s: float, clear_s: dict[str, float], keep: set[Key]) -> None:
        for key in [k for k, s in self.states.items() if ts_s - s.last_seen_s >= clear_s[k[1]] and k not in keep]:
            del self.states[key]

    def forget_zone(self, zone_id: str) -> None:
        for key in [k for k in self.states if k[1] == zone_id]:
            del self.states[key]

    def forget_all_but(self, keep: set[Key]) -> None:
        for key in [k for k in self.states if k not in keep]:
            del self.states[key]

    def clear(self) -> None:
        self.states.clear()


class StillObjectRule(RuleBase):
    """A rule that follows tracked objects standing still: parked vehicles, stalls, goods."""

    def __init__(
        self,
        camera_id: str,
        problem: ProblemClass,
        labels: frozenset[str],
        zones: Sequence[ZoneConfig],
        params: RuleParams,
        lost_s: float = DEFAULT_LOST_S,
    ) -> None:
        super().__init__(camera_id, problem, labels, zones, params)
        self.still = StillObjects()
        self.lost_s = lost_s  # the tracker's: how long an unseen object may keep its identity
        self._last_frame_s: float | None = None

    def frames_resume(self, ts_s: float, keep: set[Key]) -> None:
        """Call first on every frame. After frames stopped for longer than `lost_s` of the camera's own time
        (an outage, a reconnect) nobody saw the objects stay: their dwell starts again, whatever id the tracker
        gives them. States behind an open episode (`keep`) stay, so a raised case is not raised twice."""
        last, self._last_frame_s = self._last_frame_s, ts_s
        if last is not None and not 0.0 <= ts_s - last <= self.lost_s:
            self.still.forget_all_but(keep)

    def sightings(
        self, detections: Detections, boxes: np.ndarray, in_zone: np.ndarray, zone_id: str,
        exclude: np.ndarray | None = None,
    ) -> Iterator[tuple[int, Key]]:
        """(detection, key) of the tracked subjects in the zone that count this frame.

        A track must be confident once to count; after that the tracker's low-score matches keep it
        present, since int8 scores flicker around any threshold.
        """
        candidates = in_zone & self.subjects(detections, boxes, zone_id) & (detections.tracker_id >= 0)
        if exclude is not None:
            candidates &= ~exclude
        min_confidence = self.params[zone_id].min_confidence
        for i in np.flatnonzero(candidates):
            key = (int(detections.tracker_id[i]), zone_id)
            if detections.confidence[i] >= min_confidence or self.still.get(key) is not None:
                yield int(i), key

    def zone_removed(self, zone_id: str) -> None:
        self.still.forget_zone(zone_id)

    def close(self, ts_s: float) -> list[Event]:
        events = super().close(ts_s)
        self.still.clear()
        return events
