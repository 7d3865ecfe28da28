"""Presence with hysteresis: standing water, exposed garbage, overflowing bins.

Such things do not move and are not tracked objects; what matters is how often the model sees
them. A zone raises when at least `p_on` of the frames in the last `window_s` are positive and
clears when the share falls below `p_off`, so a flickering detection neither floods nor flaps.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from detector import Detections
from zones.classes import ProblemClass
from zones.config import PresenceRuleConfig, ZoneConfig
from zones.context import FrameContext
from zones.event import Event, EventState
from zones.rules.base import Episode, RuleBase


@dataclass
class _Window:
    """Frames of the last `window_s`: (time, positive). Bounded by the window, never by uptime."""

    frames: deque[tuple[float, bool]] = field(default_factory=deque)
    positives: int = 0

    def add(self, ts_s: float, positive: bool, window_s: float) -> None:
        self.frames.append((ts_s, positive))
        self.positives += positive
        while self.frames and self.frames[0][0] < ts_s - window_s:
            _, old = self.frames.popleft()
            self.positives -= old

    def share(self) -> float:
        return self.positives / len(self.frames) if self.frames else 0.0

    def span(self) -> float:
        return self.frames[-1][0] - self.frames[0][0] if self.frames else 0.0

    def first_positive(self) -> float | None:
        return next((t for t, positive in self.frames if positive), None)


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
        self._windows: dict[str, _Window] = {zone_id: _Window() for zone_id in self.zones}

    def zone_added(self, zone_id: str) -> None:
        self._windows[zone_id] = _Window()

    def zone_removed(self, zone_id: str) -> None:
        self._windows.pop(zone_id, None)

    def update(self, ctx: FrameContext) -> list[Event]:
        events: list[Event] = []
        ts_s, detections, boxes, inside = ctx.ts_s, ctx.detections, ctx.boxes, ctx.inside
        for j, zone_id in self.watched(ctx.zone_ids):
            params = self.params[zone_id]
            confident = detections.confidence >= params.min_confidence
            hits = np.flatnonzero(inside[:, j] & self.subjects(detections, boxes, zone_id) & confident)
            window = self._windows[zone_id]
            window.add(ts_s, len(hits) > 0, params.window_s)
            best = int(hits[np.argmax(detections.confidence[hits])]) if len(hits) else None
            events.extend(self._advance(zone_id, ts_s, window, params, detections, boxes, best))
        return events

    def _advance(
        self, zone_id: str, ts_s: float, window: _Window, params: PresenceRuleConfig,
        detections: Detections, boxes: np.ndarray, best: int | None,
    ) -> list[Event]:
        episode = self._episodes.get(zone_id)
        if episode is not None:
            if best is not None:
                episode.last_seen_s, episode.box = ts_s, boxes[best]
                episode.confidence = max(episode.confidence, float(detections.confidence[best]))
            if window.share() < params.p_off:
                del self._episodes[zone_id]
                return [self.finish(zone_id, episode, ts_s)]
            return self.due_update(zone_id, episode, ts_s)
        full = window.span() >= params.window_s - 1e-6
        if best is None or not full or window.share() < params.p_on or self.in_cooldown(zone_id, ts_s):
            return []
        since = window.first_positive()
        self._episodes[zone_id] = self.open_episode(
            zone_id, ts_s, since if since is not None else ts_s, boxes[best], str(detections.labels[best]),
            float(detections.confidence[best]),
        )
        return [self.event(zone_id, self._episodes[zone_id], EventState.START, ts_s)]
