"""Stationary cluster: objects that stay together in a zone (street vending, outside-store business).

One episode per zone and class: a shop front either has goods out in front of it or not; a
vending spot either has a stall or not. For vending, people must be tending the objects.

Where the detector names no stall, zone-level evidence (the segmenter's awnings, stalls, tables and goods,
or a zone classifier) counts the same way: shown in at least `EVIDENCE_SHARE` of the frames of the last
`dwell_s`, with a person in the zone when the class needs one.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from detector import Detections
from zones.config import ClusterRuleConfig
from zones.context import FrameContext
from zones.event import Event, EventState
from zones.geometry import union_box
from zones.rules.base import Episode
from zones.rules.stillness import Key, StillObjectRule
from zones.rules.window import Window

EVIDENCE_SHARE = 0.6  # of the dwell's frames showing the zone-level evidence


class StationaryClusterRule(StillObjectRule):
    params: dict[str, ClusterRuleConfig]  # type: ignore[assignment]
    _episodes: dict[str, Episode]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._evidence: dict[str, Window] = {zone_id: Window() for zone_id in self.zones}

    def zone_added(self, zone_id: str) -> None:
        self._evidence[zone_id] = Window()

    def zone_removed(self, zone_id: str) -> None:
        super().zone_removed(zone_id)
        self._evidence.pop(zone_id, None)

    def update(self, ctx: FrameContext) -> list[Event]:
        events: list[Event] = []
        ts_s, detections, boxes, inside = ctx.ts_s, ctx.detections, ctx.boxes, ctx.inside
        self.frames_resume(ts_s, keep=set())  # episodes are per zone; their zone-level windows restart on their own
        present = set(detections.tracker_id.tolist())
        people = boxes[self.helpers(detections)] if self.helper_labels else np.zeros((0, 4))
        seen: set[Key] = set()
        for j, zone_id in self.watched(ctx.zone_ids):
            params = self.params[zone_id]
            settled: list[tuple[Key, int]] = []
            for i, key in self.sightings(detections, boxes, inside[:, j], zone_id):
                seen.add(key)
                still, _, _ = self.still.observe(
                    key, ts_s, boxes[i], str(detections.labels[i]), float(detections.confidence[i]),
                    params.max_shift, present,
                )
                if _person_near(boxes[i], people, params.person_distance):
                    still.frames_with_person += 1
                tended = still.frames_with_person >= params.person_ratio * still.frames
                if ts_s - still.since_s >= params.dwell_s and tended:
                    settled.append((key, i))
            reasons = self._zone_level(ctx, j, zone_id, params)
            if settled:
                events.extend(self._advance(zone_id, ts_s, settled, detections, boxes))
            elif reasons:
                events.extend(self._advance_on_evidence(zone_id, ts_s, reasons))
        events.extend(self._expire(ts_s, seen))
        return events

    def _zone_level(self, ctx: FrameContext, column: int, zone_id: str, params: ClusterRuleConfig) -> list[str]:
        """The zone-level reasons when they have held for the dwell (with someone there, for vending); else []."""
        reasons = self.zone_readings(ctx, zone_id)
        if reasons and params.person_ratio > 0:
            people = self.helpers(ctx.detections) & ctx.inside[:, column]
            reasons = [*reasons, f"检测 detector: {int(people.sum())} person in the zone"] if people.any() else []
        window = self._evidence[zone_id]
        window.add(ctx.ts_s, bool(reasons), params.dwell_s)
        held = window.covers(params.dwell_s) and window.share() >= EVIDENCE_SHARE
        return reasons if held else []

    def _advance_on_evidence(self, zone_id: str, ts_s: float, reasons: list[str]) -> list[Event]:
        episode = self._episodes.get(zone_id)
        if episode is not None:
            episode.last_seen_s, episode.reasons = ts_s, tuple(reasons)
            return self.due_update(zone_id, episode, ts_s)
        if self.in_cooldown(zone_id, ts_s):
            return []
        first = self._evidence[zone_id].first_positive()
        since = first if first is not None else ts_s  # a first positive at 0.0 s is a time, not none
        self._episodes[zone_id] = self.open_episode(zone_id, ts_s, since, self.zone_box(zone_id), "zone evidence",
                                                    1.0, reasons=tuple(reasons))
        return [self.event(zone_id, self._episodes[zone_id], EventState.START, ts_s)]

    def _advance(
        self, zone_id: str, ts_s: float, settled: list[tuple[Key, int]], detections: Detections, boxes: np.ndarray
    ) -> list[Event]:
        box = union_box([boxes[i] for _, i in settled])
        best = max(settled, key=lambda item: detections.confidence[item[1]])[1]
        label, confidence = str(detections.labels[best]), float(detections.confidence[best])
        counted = Counter(str(detections.labels[i]) for _, i in settled)
        reasons = (f"检测 detector: {', '.join(f'{n} {name}' for name, n in sorted(counted.items()))} staying",)
        episode = self._episodes.get(zone_id)
        if episode is not None:
            episode.last_seen_s, episode.box, episode.label, episode.reasons = ts_s, box, label, reasons
            episode.confidence = max(episode.confidence, confidence)
            return self.due_update(zone_id, episode, ts_s)
        if self.in_cooldown(zone_id, ts_s):
            return []
        since = min(self.still.states[key].since_s for key, _ in settled)
        self._episodes[zone_id] = self.open_episode(zone_id, ts_s, since, box, label, confidence, reasons=reasons)
        return [self.event(zone_id, self._episodes[zone_id], EventState.START, ts_s)]

    def _expire(self, ts_s: float, seen: set[Key]) -> list[Event]:
        events = []
        for zone_id in sorted(self._episodes):
            episode = self._episodes[zone_id]
            if ts_s - episode.last_seen_s >= self.params[zone_id].clear_s:
                events.append(self.finish(zone_id, episode, ts_s))
                del self._episodes[zone_id]
        clear = {zone_id: p.clear_s for zone_id, p in self.params.items()}
        self.still.forget_older_than(ts_s, clear, keep=seen)
        return events


def _person_near(box: np.ndarray, people: np.ndarray, distance: float) -> bool:
    """Is someone's anchor (feet) within `distance` box sizes of the object's centre."""
    if len(people) == 0:
        return False
    size = max(box[2] - box[0], box[3] - box[1])
    centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
    feet = np.stack([(people[:, 0] + people[:, 2]) / 2, people[:, 3]], axis=1)
    return bool(np.any(np.linalg.norm(feet - centre, axis=1) <= distance * size))
