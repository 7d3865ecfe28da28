"""Stationary track with dwell: the rule behind both parking classes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from detector import Detections
from zones.classes import ProblemClass
from zones.config import RuleParams, StationaryRuleConfig, ZoneConfig
from zones.context import FrameContext
from zones.event import Event, EventState
from zones.geometry import overlap_of_smaller
from zones.riders import RiderMemory
from zones.rules.base import Episode
from zones.rules.stillness import DEFAULT_LOST_S, Key, StillObjectRule

_DUPLICATE_OVERLAP = 0.7  # a box mostly inside an open episode's box is that object again


class StationaryDwellRule(StillObjectRule):
    """Raises `start` when a tracked object stays still in a watched zone for `dwell_s`, `update`
    every `update_every_s` while it stays, and `end` once gone for `clear_s` or once it drives off.

    Two-wheelers with a rider are skipped, and stay skipped for `ridden_memory_s` after the rider was last
    seen (`zones.riders.RiderMemory`): frames where the rider is hidden or missed never count toward a dwell,
    which starts afresh once the rider has been away that long.
    """

    params: dict[str, StationaryRuleConfig]  # type: ignore[assignment]
    _episodes: dict[Key, Episode]

    def __init__(
        self, camera_id: str, problem: ProblemClass, labels: frozenset[str], zones: Sequence[ZoneConfig],
        params: RuleParams, lost_s: float = DEFAULT_LOST_S,
    ) -> None:
        super().__init__(camera_id, problem, labels, zones, params, lost_s=lost_s)
        memory_s = params.ridden_memory_s if isinstance(params, StationaryRuleConfig) else 0.0
        self.riders = RiderMemory(memory_s) if self.helper_labels and memory_s > 0 else None

    def update(self, ctx: FrameContext) -> list[Event]:
        """Feed one analysed frame; `ctx.inside[i, j]` says detection i stands in zone `ctx.zone_ids[j]`."""
        events: list[Event] = []
        ts_s, detections, boxes, inside = ctx.ts_s, ctx.detections, ctx.boxes, ctx.inside
        self.frames_resume(ts_s, keep=set(self._episodes))
        present = set(detections.tracker_id.tolist())
        ridden = self._ridden(ctx)
        seen: set[Key] = set()
        for j, zone_id in self.watched(ctx.zone_ids):
            exclude = ridden if self.params[zone_id].exclude_ridden else None
            for i, key in self.sightings(detections, boxes, inside[:, j], zone_id, exclude):
                seen.add(key)
                events.extend(self._observe(key, ts_s, boxes[i], detections, i, present))
        events.extend(self._expire(ts_s, seen))
        return events

    def _ridden(self, ctx: FrameContext) -> np.ndarray:
        """Ridden now or lately, over all of the frame's two-wheelers (one may ride in from outside a zone).
        A ridden one's stillness is forgotten, so its dwell starts only once it is no longer ridden."""
        detections = ctx.detections
        if self.riders is None:
            return np.zeros(len(detections), dtype=bool)
        vehicles = np.fromiter((label in self.labels for label in detections.labels), bool, len(detections))
        ridden = self.riders.update(ctx.ts_s, ctx.boxes, detections.tracker_id, vehicles, self.helpers(detections))
        for track in detections.tracker_id[ridden]:
            for zone_id, params in self.params.items():
                key = (int(track), zone_id)
                if params.exclude_ridden and key not in self._episodes:
                    self.still.states.pop(key, None)
        return ridden

    def _observe(
        self, key: Key, ts_s: float, box: np.ndarray, detections: Detections, i: int, present: set[int]
    ) -> list[Event]:
        zone_id = key[1]
        params = self.params[zone_id]
        label, confidence = str(detections.labels[i]), float(detections.confidence[i])
        still, adopted_from, moved = self.still.observe(key, ts_s, box, label, confidence, params.max_shift, present)
        if adopted_from is not None and adopted_from in self._episodes:
            self._episodes[key] = self._episodes.pop(adopted_from)
        episode = self._episodes.get(key)
        if moved and episode is not None:  # it drove off: no longer parked
            del self._episodes[key]
            return [self.finish(zone_id, episode, ts_s)]
        if episode is not None:
            episode.last_seen_s, episode.box, episode.label = ts_s, box, label
            episode.confidence = max(episode.confidence, confidence)
            return self.due_update(zone_id, episode, ts_s)
        if ts_s - still.since_s < params.dwell_s or self.in_cooldown(zone_id, ts_s) or self._duplicate(key, box):
            return []
        if still.confidence < params.min_peak_confidence:  # a faint box the tracker carried, never a vehicle
            return []
        self._episodes[key] = self.open_episode(
            zone_id, ts_s, still.since_s, box, label, still.confidence, track_id=key[0]
        )
        return [self.event(zone_id, self._episodes[key], EventState.START, ts_s)]

    def _duplicate(self, key: Key, box: np.ndarray) -> bool:
        """A second box on an object that already has an episode (int8 models double-detect)."""
        return any(
            other[1] == key[1] and overlap_of_smaller(episode.box, box) >= _DUPLICATE_OVERLAP
            for other, episode in self._episodes.items()
            if other != key
        )

    def close(self, ts_s: float) -> list[Event]:
        if self.riders is not None:
            self.riders.clear()
        return super().close(ts_s)

    def _expire(self, ts_s: float, seen: set[Key]) -> list[Event]:
        events = []
        for key in sorted(self._episodes):
            episode = self._episodes[key]
            if key not in seen and ts_s - episode.last_seen_s >= self.params[key[1]].clear_s:
                events.append(self.finish(key[1], episode, ts_s))
                del self._episodes[key]
        clear = {zone_id: p.clear_s for zone_id, p in self.params.items()}
        self.still.forget_older_than(ts_s, clear, keep=set(self._episodes))
        return events
