"""Looking again at one zone after a case was marked resolved: is the problem still there?

The check reads the same evidence the class's rule reads (its labels, confidence, minimum size,
zone overrides; no ridden two-wheelers for parking; and the zone's readings, the segmenter's shares and
the zone classifier's score, for the classes those show) for a window of analysed frames, ignoring the
zone's schedule and cooldown: a school gate's parked car is still parked at noon. For classes
that follow still objects (parking, stalls, goods) a sighting counts only once the same track
has stood still since the check began seeing it, so traffic passing through the zone does not
keep a case open. A zone reading counts only when it was taken during the check (the worker takes
one at once when a check opens), never one from before the problem was cleared. The verdict is
"present" when the share of positive frames reaches `present_share`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from detector import Detections
from zones.classes import CLASS_INFO, ProblemClass, RuleKind
from zones.config import RuleParams, StationaryRuleConfig, ZoneConfig
from zones.geometry import centre_shift
from zones.readings import ZoneReading, zone_reasons
from zones.riders import RiderMemory


@dataclass
class CheckResult:
    frames: int
    present_frames: int
    present: bool
    best_box: np.ndarray | None
    first_ts_s: float | None
    last_ts_s: float | None
    reasons: tuple[str, ...] = ()  # the zone-level reasons of the last positive reading, in words


@dataclass
class ZoneCheck:
    """Fed one analysed frame at a time through `update`; `done` after `frames` frames.

    With `expects_reading`, frames before the first zone reading taken since the check opened are passed over
    (at most `frames` of them), so that a batch of frames already measured cannot cut the window short.
    """

    problem: ProblemClass
    zone: ZoneConfig
    params: RuleParams
    labels: frozenset[str]
    frames: int
    present_share: float
    seen: int = 0
    positives: int = 0
    best_box: np.ndarray | None = None
    best_score: float = -1.0
    first_ts_s: float | None = None
    last_ts_s: float | None = None
    reasons: tuple[str, ...] = ()
    expects_reading: bool = False  # the camera takes zone readings of this class: count from the first fresh one
    opened_s: float | None = None
    waited: int = 0  # frames passed over while waiting for a fresh reading
    _anchors: dict[int, np.ndarray] = field(default_factory=dict)  # track id -> box when first seen; bounded
    _riders: RiderMemory | None = None  # the parking rule's own rider memory, over the check's frames

    @property
    def done(self) -> bool:
        return self.seen >= self.frames

    def update(self, ts_s: float, detections: Detections, boxes: np.ndarray, in_zone: np.ndarray,
               reading: ZoneReading | None = None) -> None:
        """`boxes` are the detections' normalised boxes; `in_zone[i]`: detection i's anchor is in this zone;
        `reading` the zone's latest zone reading, if the camera takes them."""
        if self.done:
            return
        self.opened_s = ts_s if self.opened_s is None else self.opened_s
        fresh = reading is not None and reading.at_s >= self.opened_s
        if self.expects_reading and not fresh and self.seen == 0 and self.waited < self.frames:
            self.waited += 1  # the reading asked for comes with a later frame; none at all: go on without it
            return
        self.seen += 1
        self.first_ts_s = ts_s if self.first_ts_s is None else self.first_ts_s
        self.last_ts_s = ts_s
        candidates = np.flatnonzero(self._subjects(detections, boxes, ts_s) & in_zone)
        positive = [i for i in candidates if self._counts(detections, boxes, int(i))]
        reasons = zone_reasons(self.problem, reading) if fresh else []
        if reasons:
            self.reasons = tuple(reasons)
        if reasons and not positive:
            self.positives += 1
        if positive:
            self.positives += 1
            best = max(positive, key=lambda i: float(detections.confidence[i]))
            if float(detections.confidence[best]) > self.best_score:
                self.best_score, self.best_box = float(detections.confidence[best]), boxes[best].copy()

    def result(self) -> CheckResult:
        share = self.positives / self.seen if self.seen else 0.0
        return CheckResult(self.seen, self.positives, self.seen > 0 and share >= self.present_share,
                           self.best_box, self.first_ts_s, self.last_ts_s, self.reasons)

    def _subjects(self, detections: Detections, boxes: np.ndarray, ts_s: float) -> np.ndarray:
        if not len(detections):
            return np.zeros(0, dtype=bool)
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        labelled = np.fromiter((label in self.labels for label in detections.labels), bool, len(detections))
        mask = labelled & (areas >= self.params.min_area) & (detections.confidence >= self.params.min_confidence)
        if isinstance(self.params, StationaryRuleConfig) and self.params.exclude_ridden:
            # The rule's decision, not a per-frame one: a rider hidden on some frames is still riding.
            helpers = CLASS_INFO[self.problem].evidence.helpers
            riders = np.fromiter((label in helpers for label in detections.labels), bool, len(detections))
            if self._riders is None:
                self._riders = RiderMemory(self.params.ridden_memory_s)
            mask &= ~self._riders.update(ts_s, boxes, detections.tracker_id, labelled, riders)
        return mask

    def _counts(self, detections: Detections, boxes: np.ndarray, i: int) -> bool:
        """Presence classes count any sighting; still-object classes a track that has not moved."""
        if CLASS_INFO[self.problem].rule is RuleKind.PRESENCE:
            return True
        track = int(detections.tracker_id[i])
        if track < 0:
            return False
        anchor = self._anchors.get(track)
        if anchor is None:
            if len(self._anchors) < 1000:
                self._anchors[track] = boxes[i].copy()
            return False  # seen once: not yet known to stand still
        max_shift = getattr(self.params, "max_shift", 0.25)
        if centre_shift(anchor, boxes[i]) > max_shift:
            self._anchors[track] = boxes[i].copy()  # it moved: start again from here
            return False
        return True
