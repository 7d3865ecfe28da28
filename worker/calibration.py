"""A zone's clear level in a minute, then kept up by the worker itself (issue 16 item 4).

Today a zone learns its clear level only from clear labels, so a zone nobody labelled stays silent below a
flood-sized share. Two things fix that:

- **Calibration** ("this zone is clear now", from the zone editor): the camera's next frame is segmented and,
  with the shares the reader kept from the camera's last minutes (one per segmented frame, bounded), learnt as
  clear. No pictures are kept for it: the recorder keeps detections and a picture every few seconds for the
  what-if, while the reader already measured every zone's shares on each segmented frame; those shares are all
  a level needs. Frames taken while the zone had an open episode of a scene class, or after a problem label on
  it, are left out; while either holds now, the request is refused with the reason.
- **Auto-learning**: once a zone has a level, a segmented frame teaches it by itself when the zone is quiet (no
  open episode of its scene classes, no problem label within `problem_label_quiet_s` of frame time), at most
  one sample per `auto_every_s` of frame time, and only when the share is not far above either the level
  (`auto_max_rise` of the class's alert margin) or the zone's own recent quiet shares (median + k x MAD). So
  the level follows day and night and the seasons, and a problem building up slowly is never learnt: it
  reads well above the recent quiet median before it reads as an alert.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from zones import Event, ProblemClass
from zones.event import EventState
from zones.readings import SCENE_RULES
from zones.scene import SceneBaseline

Shares = Mapping[str, Mapping[str, float]]


class CalibrationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recent_frames: int = Field(64, ge=0, le=2000, description="Segmented frames whose zone shares a camera keeps "
                               "for calibration and auto-learning (one every `scene.every_n_frames`).")
    wait_s: float = Field(20.0, gt=0, le=300, description="How long a calibration waits for the camera's next frame.")
    auto_learn: bool = Field(True, description="Quiet frames teach a zone's level by themselves once it has one.")
    auto_every_s: float = Field(60.0, gt=0, description="At most one sample per zone this often (frame time).")
    auto_min_recent: int = Field(5, ge=1, description="Recent quiet shares the robust check needs first.")
    auto_k_mad: float = Field(3.0, ge=0, description="A share above median + k x MAD of recent quiet ones is "
                              "not learnt.")
    auto_max_rise: float = Field(0.5, ge=0, le=1, description="Nor one above the level by more than this share "
                                 "of the class's alert margin (SCENE_RULES min_excess).")
    problem_label_quiet_s: float = Field(1800.0, ge=0, description="After a problem label on a zone, this much "
                                         "frame time before its frames are learnt as clear again.")


@dataclass
class Pending:
    """One calibration waiting for the camera's next segmented frame; `done` is set with the outcome."""

    zone_id: str
    minutes: float
    done: threading.Event = field(default_factory=threading.Event)
    frames: int = 0
    recent_frames: int = 0
    frame_ts_s: float | None = None
    levels: dict[str, float | None] = field(default_factory=dict)
    refused: str | None = None


@dataclass(frozen=True)
class _Recent:
    ts_s: float
    shares: dict[str, dict[str, float]]
    busy: frozenset[str]  # zones not quiet on that frame


def _mad_bound(values: list[float], k: float) -> float:
    array = np.asarray(values)
    median = float(np.median(array))
    return median + k * 1.4826 * float(np.median(np.abs(array - median)))


def scene_groups(classes: Iterable[ProblemClass]) -> dict[str, float]:
    """The groups whose level the classes' rules read, each with the smallest alert margin among them."""
    margins: dict[str, float] = {}
    for problem in classes:
        rule = SCENE_RULES.get(problem)
        for group in rule.groups if rule else ():
            margins[group] = min(margins.get(group, 1.0), rule.min_excess)
    return margins


class QuietWatch:
    """One camera's calibration state: open episodes, problem labels, recent shares and pending requests."""

    def __init__(self, config: CalibrationConfig) -> None:
        self.config = config
        self.open: set[tuple[str, ProblemClass]] = set()
        self.problem_label_at: dict[str, float] = {}  # zone -> frame time of the camera when it came
        self.recent: deque[_Recent] = deque(maxlen=config.recent_frames or 1)
        self.last_auto: dict[tuple[str, str], float] = {}
        self.calibrated_to: dict[str, float] = {}  # zone -> newest recent frame a calibration used
        self.pending: list[Pending] = []
        self.last_ts: float | None = None

    def observe(self, events: Iterable[Event]) -> None:
        for event in events:
            if event.problem not in SCENE_RULES:
                continue
            key = (event.zone_id, event.problem)
            if event.state == EventState.END:
                self.open.discard(key)
            else:
                self.open.add(key)

    def note_problem_label(self, zone_id: str) -> None:
        self.problem_label_at[zone_id] = self.last_ts if self.last_ts is not None else float("-inf")

    def why_not_quiet(self, zone_id: str, ts_s: float | None) -> str | None:
        """Why the zone's frames cannot be taken as clear now (zh-CN / English), or None when they can."""
        open_classes = sorted(p.value for z, p in self.open if z == zone_id)
        if open_classes:
            return f"区域有未结束的告警 / the zone has an open episode of {', '.join(open_classes)}"
        labelled = self.problem_label_at.get(zone_id)
        if labelled is not None and (ts_s is None or ts_s - labelled < self.config.problem_label_quiet_s):
            return "区域最近被标注为有问题 / the zone was recently labelled as showing a problem"
        return None

    def after_segment(self, ts_s: float, shares: Shares, baseline: SceneBaseline,
                      watched: Mapping[str, Iterable[ProblemClass]]) -> set[str]:
        """On the inference thread, after a segmented frame: answer calibrations, learn quiet zones by themselves,
        keep the shares. Returns the zones whose baseline changed."""
        self.last_ts = ts_s
        busy = frozenset(z for z in shares if self.why_not_quiet(z, ts_s) is not None)
        changed = {pending.zone_id for pending in self.pending if self._calibrate(pending, ts_s, shares, baseline)}
        self.pending.clear()
        if self.config.auto_learn:
            changed |= self._auto(ts_s, shares, baseline, watched, busy)
        if self.config.recent_frames:
            self.recent.append(_Recent(ts_s, {z: dict(g) for z, g in shares.items()}, busy))
        return changed

    def _calibrate(self, pending: Pending, ts_s: float, shares: Shares, baseline: SceneBaseline) -> bool:
        try:
            pending.frame_ts_s = ts_s
            pending.refused = self.why_not_quiet(pending.zone_id, ts_s)
            if pending.refused is not None or pending.zone_id not in shares:
                pending.refused = pending.refused or "区域不在画面中 / the zone has no pixels on this frame"
                return False
            since = max(ts_s - pending.minutes * 60, self.calibrated_to.get(pending.zone_id, float("-inf")))
            recent = [r for r in self.recent if r.ts_s > since and pending.zone_id not in r.busy
                      and pending.zone_id in r.shares]
            for frame in [*recent, None]:
                baseline.learn({pending.zone_id: (frame.shares if frame else shares)[pending.zone_id]},
                               "calibration")
            self.calibrated_to[pending.zone_id] = ts_s
            pending.frames, pending.recent_frames = len(recent) + 1, len(recent)
            pending.levels = {g: baseline.level(pending.zone_id, g) for g in shares[pending.zone_id]}
            return True
        finally:
            pending.done.set()

    def _auto(self, ts_s: float, shares: Shares, baseline: SceneBaseline,
              watched: Mapping[str, Iterable[ProblemClass]], busy: frozenset[str]) -> set[str]:
        changed: set[str] = set()
        for zone_id, groups in shares.items():
            if zone_id in busy:
                continue
            for group, margin in scene_groups(watched.get(zone_id, ())).items():
                share, level = groups.get(group), baseline.level(zone_id, group)
                if share is None or level is None:
                    continue  # a zone without a level waits for its calibration: nothing to follow yet
                if ts_s - self.last_auto.get((zone_id, group), float("-inf")) < self.config.auto_every_s:
                    continue
                recent = [r.shares[zone_id][group] for r in self.recent
                          if zone_id not in r.busy and group in r.shares.get(zone_id, {})]
                if len(recent) < self.config.auto_min_recent:
                    continue
                if share > level + self.config.auto_max_rise * margin or \
                        share > _mad_bound(recent[-self.config.recent_frames:], self.config.auto_k_mad):
                    continue
                baseline.learn({zone_id: {group: share}}, "auto")
                self.last_auto[(zone_id, group)] = ts_s
                changed.add(zone_id)
        return changed
