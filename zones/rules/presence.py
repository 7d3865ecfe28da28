"""Presence with hysteresis: standing water, exposed garbage, overflowing bins.

Such things do not move and are not tracked objects; what matters is how often the model sees
them. A zone raises when at least `p_on` of the frames in the last `window_s` are positive and
clears when the share falls below `p_off`, so a flickering detection neither floods nor flaps.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from detector import Detections
from zones.classes import ProblemClass
from zones.config import PresenceRuleConfig, ZoneConfig
from zones.context import FrameContext
from zones.event import Event, EventState
from zones.rules.base import Episode, RuleBase
from zones.rules.window import Window


class PresenceRule(RuleBase):
    params: dict[str, PresenceRuleConfig]  # type: ignore[assignment]
    _episodes: dict[str, Episode]

    def __init__(
        self,
        camera_id: str,
        problem: ProblemClass,
        labels: frozenset[str],
        zones: Sequence[ZoneConfig],
        params: PresenceRuleConfig,
    ) -> None:
        super().__init__(camera_id, problem, labels, zones, params)
        self._windows: dict[str, Window] = {zone_id: Window() for zone_id in self.zones}

    def zone_added(self, zone_id: str) -> None:
        self._windows[zone_id] = Window()

    def zone_removed(self, zone_id: str) -> None:
        self._windows.pop(zone_id, None)

    def update(self, ctx: FrameContext) -> list[Event]:
        events: list[Event] = []
        detections, boxes, inside = ctx.detections, ctx.boxes, ctx.inside
        for j, zone_id in self.watched(ctx.zone_ids):
            params = self.params[zone_id]
            confident = detections.confidence >= params.min_confidence
            hits = np.flatnonzero(inside[:, j] & self.subjects(detections, boxes, zone_id) & confident)
            sighting = self._sighting(zone_id, detections, boxes, hits, self.zone_readings(ctx, zone_id))
            window = self._windows[zone_id]
            window.add(ctx.ts_s, sighting is not None, params.window_s)
            events.extend(self._advance(zone_id, ctx.ts_s, window, params, sighting))
        return events

    def _sighting(self, zone_id: str, detections: Detections, boxes: np.ndarray, hits: np.ndarray,
                  zone_reasons: list[str]) -> _Sighting | None:
        """This frame's evidence in the zone, boxes first (they say where), then zone-level reasons."""
        if not len(hits) and not zone_reasons:
            return None
        reasons = list(zone_reasons)
        if len(hits):
            best = int(hits[np.argmax(detections.confidence[hits])])
            labels = Counter(str(label) for label in detections.labels[hits])
            counted = ", ".join(f"{n} {label}" for label, n in sorted(labels.items()))
            reasons.insert(0, f"检测 detector: {counted}")
            return _Sighting(boxes[best], str(detections.labels[best]), float(detections.confidence[best]),
                             tuple(reasons))
        return _Sighting(self.zone_box(zone_id), "zone evidence", 1.0, tuple(reasons))

    def _advance(self, zone_id: str, ts_s: float, window: Window, params: PresenceRuleConfig,
                 sighting: _Sighting | None) -> list[Event]:
        episode = self._episodes.get(zone_id)
        if episode is not None:
            if sighting is not None:
                episode.last_seen_s, episode.box, episode.reasons = ts_s, sighting.box, sighting.reasons
                episode.confidence = max(episode.confidence, sighting.confidence)
            if window.share() < params.p_off:
                del self._episodes[zone_id]
                return [self.finish(zone_id, episode, ts_s)]
            return self.due_update(zone_id, episode, ts_s)
        full = window.covers(params.window_s)
        if sighting is None or not full or window.share() < params.p_on or self.in_cooldown(zone_id, ts_s):
            return []
        since = window.first_positive()
        self._episodes[zone_id] = self.open_episode(
            zone_id, ts_s, since if since is not None else ts_s, sighting.box, sighting.label, sighting.confidence,
            reasons=sighting.reasons,
        )
        return [self.event(zone_id, self._episodes[zone_id], EventState.START, ts_s)]


@dataclass(frozen=True)
class _Sighting:
    box: np.ndarray
    label: str
    confidence: float
    reasons: tuple[str, ...]
