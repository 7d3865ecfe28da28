"""Stationary-object dwell: the rule behind both parking classes.

A small stateful object fed one frame at a time (`update`), so it can be tested
with hand-made detections. State is kept only for objects seen within `clear_s`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from detector import Detections
from zones.classes import ProblemClass
from zones.config import StationaryRuleConfig, ZoneConfig
from zones.event import Event, EventState, episode_id
from zones.geometry import centre_shift, iou, normalise_boxes, overlap_of_smaller

_SAME_OBJECT_IOU = 0.5  # a new track id this close to a lost one is the same parked object
_DUPLICATE_OVERLAP = 0.7  # a box mostly inside an open episode's box is that object again

Key = tuple[int, str]  # (track id, zone id)


@dataclass
class _Still:
    """An object standing still in a zone, not yet (or already) an episode."""

    reference: np.ndarray  # normalised box where it settled
    box: np.ndarray
    since_s: float
    last_seen_s: float
    label: str
    confidence: float


@dataclass
class _Episode:
    event_id: str
    start_s: float
    last_emit_s: float


class StationaryDwellRule:
    """Raises `start` when a tracked object stays still in a watched zone for `dwell_s`,
    `update` every `update_every_s` while it stays, and `end` once it has been gone for `clear_s`.
    """

    def __init__(
        self,
        camera_id: str,
        problem: ProblemClass,
        evidence_labels: frozenset[str],
        zones: Sequence[ZoneConfig],
        params: StationaryRuleConfig,
    ) -> None:
        self.camera_id = camera_id
        self.problem = problem
        self.evidence_labels = evidence_labels
        self.zones = {z.id: z for z in zones if problem in z.classes}
        self.params = params
        self._still: dict[Key, _Still] = {}
        self._episodes: dict[Key, _Episode] = {}

    @property
    def open_episodes(self) -> int:
        return len(self._episodes)

    def update(
        self,
        ts_s: float,
        detections: Detections,
        inside: np.ndarray,
        zone_ids: Sequence[str],
        frame_size: tuple[int, int],
    ) -> list[Event]:
        """Feed one analysed frame; `inside[i, j]` says detection i stands in zone `zone_ids[j]`."""
        events: list[Event] = []
        boxes = normalise_boxes(detections.xyxy, *frame_size)
        present_tracks = set(detections.tracker_id.tolist())
        seen: set[Key] = set()
        confident = detections.confidence >= self.params.min_confidence
        for i in np.flatnonzero(self._eligible(detections, boxes)):
            for j in np.flatnonzero(inside[i]):
                zone_id = zone_ids[j]
                if zone_id not in self.zones:
                    continue
                key = (int(detections.tracker_id[i]), zone_id)
                # A track must be confident once to count; after that the tracker's own
                # low-score matches keep it present, as int8 scores flicker around any threshold.
                if not confident[i] and key not in self._still:
                    continue
                seen.add(key)
                events.extend(self._observe(key, ts_s, boxes[i], detections, i, present_tracks))
                events.extend(self._advance(key, self._still[key], ts_s))
        events.extend(self._expire(ts_s, seen))
        return events

    def close(self, ts_s: float) -> list[Event]:
        """End every open episode: the clip is over, nothing more can be seen."""
        events = [self._event(key, EventState.END, ts_s) for key in sorted(self._episodes)]
        self._episodes.clear()
        self._still.clear()
        return events

    def _eligible(self, detections: Detections, boxes: np.ndarray) -> np.ndarray:
        labels_ok = np.array([label in self.evidence_labels for label in detections.labels], dtype=bool)
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        return labels_ok & (areas >= self.params.min_area) & (detections.tracker_id >= 0)

    def _observe(
        self, key: Key, ts_s: float, box: np.ndarray, detections: Detections, i: int, present: set[int]
    ) -> list[Event]:
        """Record where the object is; an object that moved is no longer parked, so its episode ends."""
        events: list[Event] = []
        still = self._still.get(key) or self._adopt_lost(key, box, present)
        label, confidence = str(detections.labels[i]), float(detections.confidence[i])
        if still is not None and centre_shift(still.reference, box) > self.params.max_shift:
            if key in self._episodes:
                events.append(self._event(key, EventState.END, ts_s))
                del self._episodes[key]
            still = None
        if still is None:
            self._still[key] = _Still(box, box, ts_s, ts_s, label, confidence)
        else:
            still.box, still.last_seen_s, still.label = box, ts_s, label
            still.confidence = max(still.confidence, confidence)
        return events

    def _adopt_lost(self, key: Key, box: np.ndarray, present: set[int]) -> _Still | None:
        """The tracker may give a parked object a new id after an occlusion; keep its history."""
        zone_id = key[1]
        for old_key, old in list(self._still.items()):
            if old_key[1] != zone_id or old_key[0] in present:
                continue
            if iou(old.box, box) >= _SAME_OBJECT_IOU:
                self._still[key] = self._still.pop(old_key)
                if old_key in self._episodes:
                    self._episodes[key] = self._episodes.pop(old_key)
                return self._still[key]
        return None

    def _advance(self, key: Key, still: _Still, ts_s: float) -> list[Event]:
        episode = self._episodes.get(key)
        if episode is not None:
            if ts_s - episode.last_emit_s >= self.params.update_every_s:
                episode.last_emit_s = ts_s
                return [self._event(key, EventState.UPDATE, ts_s)]
            return []
        if ts_s - still.since_s < self.params.dwell_s or self._duplicates_open_episode(key, still):
            return []
        zone_id = key[1]
        self._episodes[key] = _Episode(episode_id(self.camera_id, zone_id, self.problem, ts_s, key[0]), ts_s, ts_s)
        return [self._event(key, EventState.START, ts_s)]

    def _duplicates_open_episode(self, key: Key, still: _Still) -> bool:
        """A second box on an object that already has an episode (int8 models double-detect)."""
        return any(
            other_key[1] == key[1] and overlap_of_smaller(self._still[other_key].box, still.box) >= _DUPLICATE_OVERLAP
            for other_key in self._episodes
            if other_key != key and other_key in self._still
        )

    def _expire(self, ts_s: float, seen: set[Key]) -> list[Event]:
        events = []
        for key in sorted(self._episodes):
            if key not in seen and ts_s - self._still[key].last_seen_s >= self.params.clear_s:
                events.append(self._event(key, EventState.END, ts_s))
                del self._episodes[key]
        for key in [k for k, s in self._still.items() if ts_s - s.last_seen_s >= self.params.clear_s]:
            if key not in self._episodes:
                del self._still[key]
        return events

    def _event(self, key: Key, state: EventState, ts_s: float) -> Event:
        episode, still = self._episodes[key], self._still[key]
        zone = self.zones[key[1]]
        return Event(
            event_id=episode.event_id,
            problem=self.problem,
            camera_id=self.camera_id,
            zone_id=zone.id,
            zone_kind=zone.kind,
            state=state,
            start_s=episode.start_s,
            ts_s=ts_s,
            end_s=still.last_seen_s if state is EventState.END else None,
            since_s=still.since_s,
            confidence=round(still.confidence, 4),
            bbox=tuple(round(float(v), 5) for v in still.box),
            label=still.label,
            track_id=key[0],
            priority=zone.priority or "normal",
            grid=zone.grid,
        )
