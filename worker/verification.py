"""Camera-verified closure, the worker's half: run a zone check per request, answer with an after-snapshot."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np

from bus import SnapshotStore
from bus.control import VerifyRequest, VerifyResult
from detector import Detections
from streams import Frame
from zones import CLASS_INFO, RulesConfig, ZoneConfig
from zones.readings import ZoneReading
from zones.verification import ZoneCheck

if TYPE_CHECKING:
    from worker.zone_readings import ZoneReader

log = logging.getLogger(__name__)

ResultSink = Callable[[VerifyResult], None]
MAX_OPEN_CHECKS = 50  # per camera; more requests than that are answered "unavailable" at once


class CameraChecks:
    """One camera's open checks. `submit` may be called from any thread; `update` from the inference thread.

    `reader` (the worker's zone readings) is asked for a fresh measurement when a check of a class the segmenter
    or a zone classifier shows opens, so that the check need not wait for their low rate; that check counts
    frames from its first fresh reading on.
    """

    def __init__(self, camera_id: str, zones: Sequence[ZoneConfig], rules: RulesConfig, labels: frozenset[str],
                 evidence: SnapshotStore | None, sink: ResultSink, reader: ZoneReader | None = None) -> None:
        self.camera_id = camera_id
        self.zones = {z.id: z for z in zones}
        self.rules = rules
        self.labels = labels
        self.snapshots = evidence
        self.sink = sink
        self.reader = reader
        self._inbox: deque[VerifyRequest] = deque()
        self._lock = threading.Lock()
        self._open: list[tuple[VerifyRequest, ZoneCheck]] = []

    def submit(self, request: VerifyRequest) -> None:
        with self._lock:
            self._inbox.append(request)

    @property
    def open(self) -> int:
        return len(self._open)

    def update(self, frame: Frame, tracked: Detections, boxes: np.ndarray, inside: np.ndarray,
               zone_ids: Sequence[str], readings: Mapping[str, ZoneReading] | None = None) -> None:
        self._take_new()
        if not self._open:
            return
        still_open = []
        for request, check in self._open:
            column = zone_ids.index(request.zone_id) if request.zone_id in zone_ids else None
            in_zone = inside[:, column] if column is not None else np.zeros(len(tracked), dtype=bool)
            check.update(frame.ts_s, tracked, boxes, in_zone, (readings or {}).get(request.zone_id))
            if check.done:
                self._answer(request, check, frame)
            else:
                still_open.append((request, check))
        self._open = still_open

    def _take_new(self) -> None:
        with self._lock:
            new, self._inbox = list(self._inbox), deque()
        for request in new:
            zone = self.zones.get(request.zone_id)
            if zone is None or request.problem not in zone.classes or len(self._open) >= MAX_OPEN_CHECKS:
                why = "zone not on this camera" if zone is None else (
                    "class not watched in this zone" if request.problem not in zone.classes else "too many checks")
                self._send(VerifyResult(request_id=request.request_id, case_id=request.case_id,
                                        camera_id=self.camera_id, zone_id=request.zone_id, problem=request.problem,
                                        verdict="unavailable", frames=0, present_frames=0, note=why))
                continue
            params = zone.params_for(request.problem, self.rules.for_class(request.problem))
            labels = CLASS_INFO[request.problem].evidence.subject & self.labels
            reads = self.reader is not None and request.problem in self.reader.classes_for(self.camera_id)
            self._open.append((request, ZoneCheck(request.problem, zone, params, labels, request.frames,
                                                  request.present_share, expects_reading=reads)))
            if reads and self.reader is not None:
                self.reader.look_now(self.camera_id)
            log.info("camera %s: checking zone %s for %s over %d frames (case %d)", self.camera_id,
                     request.zone_id, request.problem, request.frames, request.case_id)

    def _answer(self, request: VerifyRequest, check: ZoneCheck, frame: Frame) -> None:
        outcome = check.result()
        snapshot = None
        if self.snapshots is not None:
            picture = _draw(frame.image, self.zones[request.zone_id], outcome.best_box, outcome.present)
            try:
                snapshot = self.snapshots.save_named(self.camera_id, f"verify-{request.request_id}", picture)
            except OSError as exc:
                log.warning("camera %s: after-snapshot not saved: %s", self.camera_id, exc)
        self._send(VerifyResult(
            request_id=request.request_id, case_id=request.case_id, camera_id=self.camera_id,
            zone_id=request.zone_id, problem=request.problem, verdict="present" if outcome.present else "gone",
            frames=outcome.frames, present_frames=outcome.present_frames, snapshot=snapshot,
            first_ts_s=outcome.first_ts_s, last_ts_s=outcome.last_ts_s,
            note="; ".join(outcome.reasons) if outcome.present and outcome.reasons else None,
        ))

    def _send(self, result: VerifyResult) -> None:
        try:
            self.sink(result)
        except Exception:  # Redis away: the API times the request out as "not verified"
            log.exception("camera %s: verification result for case %d not sent", self.camera_id, result.case_id)


def _draw(image: np.ndarray, zone: ZoneConfig, box: np.ndarray | None, present: bool) -> np.ndarray:
    """The frame with the zone outlined (green: clear, red: still there) and the best sighting boxed."""
    picture = image.copy()
    height, width = picture.shape[:2]
    colour = (0, 0, 255) if present else (0, 200, 0)
    points = np.array([[round(x * width), round(y * height)] for x, y in zone.polygon], dtype=np.int32)
    thickness = max(2, width // 400)
    cv2.polylines(picture, [points], isClosed=True, color=colour, thickness=thickness)
    if box is not None:
        p1 = (round(box[0] * width), round(box[1] * height))
        p2 = (round(box[2] * width), round(box[3] * height))
        cv2.rectangle(picture, p1, p2, colour, thickness)
    return picture
