"""What every rule kind shares: the zones it watches, their parameters, cooldowns and event building."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import ValidationError

from detector import Detections
from zones.classes import CLASS_INFO, ProblemClass
from zones.config import RuleParams, ZoneConfig
from zones.context import FrameContext
from zones.event import Event, EventState, episode_id
from zones.readings import zone_reasons


class EventRefused(ValueError):
    """A rule built an event its own zone's settings make invalid; names the zone, so a log can say where."""

    def __init__(self, problem: ProblemClass, zone_id: str, error: ValidationError) -> None:
        super().__init__(f"{problem.value} in zone {zone_id}: event refused: {error}")
        self.problem, self.zone_id = problem, zone_id


@dataclass
class Episode:
    """One open problem: what the next event of it will say."""

    event_id: str
    start_s: float
    since_s: float
    last_seen_s: float
    last_emit_s: float
    box: np.ndarray
    label: str
    confidence: float
    track_id: int = -1
    reasons: tuple[str, ...] = ()


class RuleBase:
    """Holds the zones that watch this class, each with its own parameters (overrides applied)."""

    def __init__(
        self,
        camera_id: str,
        problem: ProblemClass,
        labels: frozenset[str],
        zones: Sequence[ZoneConfig],
        params: RuleParams,
    ) -> None:
        self.camera_id = camera_id
        self.problem = problem
        self.labels = labels
        self.helper_labels = CLASS_INFO[problem].evidence.helpers
        self.zones = {z.id: z for z in zones if problem in z.classes}
        self.params = {z.id: z.params_for(problem, params) for z in self.zones.values()}
        self._quiet_until: dict[str, float] = {}
        self._episodes: dict = {}  # keyed by zone id, or (track id, zone id) for per-object rules

    @property
    def open_episodes(self) -> int:
        return len(self._episodes)

    def watched(self, zone_ids: Sequence[str]) -> Iterator[tuple[int, str]]:
        """(column, zone id) of the frame's zone columns this rule watches."""
        for j, zone_id in enumerate(zone_ids):
            if zone_id in self.zones:
                yield j, zone_id

    def subjects(self, detections: Detections, boxes: np.ndarray, zone_id: str) -> np.ndarray:
        """Detections that can show this class in this zone: right label, big enough."""
        params = self.params[zone_id]
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        labels_ok = np.fromiter((label in self.labels for label in detections.labels), bool, len(detections))
        return labels_ok & (areas >= params.min_area)

    def helpers(self, detections: Detections) -> np.ndarray:
        return np.fromiter((label in self.helper_labels for label in detections.labels), bool, len(detections))

    def in_cooldown(self, zone_id: str, ts_s: float) -> bool:
        return ts_s < self._quiet_until.get(zone_id, float("-inf"))

    def start_cooldown(self, zone_id: str, ts_s: float) -> None:
        cooldown = self.params[zone_id].cooldown_s
        if cooldown > 0:
            self._quiet_until[zone_id] = ts_s + cooldown

    def open_episode(self, zone_id: str, ts_s: float, since_s: float, box: np.ndarray, label: str,
                     confidence: float, track_id: int = -1, reasons: tuple[str, ...] = ()) -> Episode:
        event_id = episode_id(self.camera_id, zone_id, self.problem, ts_s, track_id)
        return Episode(event_id, ts_s, since_s, ts_s, ts_s, box, label, confidence, track_id, reasons)

    def zone_box(self, zone_id: str) -> np.ndarray:
        """The zone's bounding box: where an episode raised on zone-level evidence alone is drawn."""
        points = np.asarray(self.zones[zone_id].polygon, dtype=np.float64)
        return np.concatenate([points.min(axis=0), points.max(axis=0)])

    def zone_readings(self, ctx: FrameContext, zone_id: str) -> list[str]:
        """The zone-level reasons (segmenter, classifier) this class shows in the zone on this frame."""
        return zone_reasons(self.problem, ctx.zone_readings.get(zone_id))

    def event(self, zone_id: str, episode: Episode, state: EventState, ts_s: float) -> Event:
        try:
            return self._event(zone_id, episode, state, ts_s)
        except ValidationError as exc:
            raise EventRefused(self.problem, zone_id, exc) from exc

    def _event(self, zone_id: str, episode: Episode, state: EventState, ts_s: float) -> Event:
        zone = self.zones[zone_id]
        return Event(
            event_id=episode.event_id,
            problem=self.problem,
            camera_id=self.camera_id,
            zone_id=zone.id,
            zone_kind=zone.kind,
            zone_name=zone.name,
            state=state,
            start_s=episode.start_s,
            ts_s=ts_s,
            end_s=episode.last_seen_s if state is EventState.END else None,
            since_s=episode.since_s,
            confidence=round(episode.confidence, 4),
            bbox=tuple(round(float(v), 5) for v in episode.box),
            label=episode.label,
            track_id=episode.track_id,
            priority=zone.priority or "normal",
            grid=zone.grid,
            reasons=episode.reasons,
        )

    def due_update(self, zone_id: str, episode: Episode, ts_s: float) -> list[Event]:
        if ts_s - episode.last_emit_s < self.params[zone_id].update_every_s:
            return []
        episode.last_emit_s = ts_s
        return [self.event(zone_id, episode, EventState.UPDATE, ts_s)]

    def retarget(self, zones: Sequence[ZoneConfig], defaults: RuleParams, ts_s: float) -> list[Event]:
        """Take a new set of zones without a restart. Unchanged zones keep their tracks, dwell timers, windows
        and open episodes; a zone that changed or is gone ends its episodes (an `end` each, never silently)
        and forgets its state; a new zone starts empty."""
        wanted = {z.id: z for z in zones if self.problem in z.classes}
        events: list[Event] = []
        for zone_id, old in list(self.zones.items()):
            if wanted.get(zone_id) != old:
                events += self.forget_zone(zone_id, ts_s)
        for zone_id, zone in wanted.items():
            if zone_id not in self.zones:
                self.zones[zone_id] = zone
                self.params[zone_id] = zone.params_for(self.problem, defaults)
                self.zone_added(zone_id)
        return events

    def forget_zone(self, zone_id: str, ts_s: float) -> list[Event]:
        def zone_of(key: object) -> object:
            return key[1] if isinstance(key, tuple) else key

        ending = sorted(key for key in self._episodes if zone_of(key) == zone_id)
        events = [self.event(zone_id, self._episodes.pop(key), EventState.END, ts_s) for key in ending]
        self._quiet_until.pop(zone_id, None)
        self.zone_removed(zone_id)
        del self.zones[zone_id], self.params[zone_id]
        return events

    def zone_added(self, zone_id: str) -> None:
        """A kind's own per-zone state starts here."""

    def zone_removed(self, zone_id: str) -> None:
        """A kind's own per-zone state ends here."""

    def close(self, ts_s: float) -> list[Event]:
        """End every open episode: the clip is over, nothing more can be seen."""
        events = [
            self.event(key[1] if isinstance(key, tuple) else key, self._episodes[key], EventState.END, ts_s)
            for key in sorted(self._episodes)
        ]
        self._episodes.clear()
        return events

    def finish(self, zone_id: str, episode: Episode, ts_s: float) -> Event:
        self.start_cooldown(zone_id, ts_s)
        return self.event(zone_id, episode, EventState.END, ts_s)
