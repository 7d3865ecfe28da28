"""Which two-wheelers are ridden, remembered per track.

A rider is not seen on every frame: a pole hides them, the person box comes out cut, or the detector misses
it. Deciding frame by frame let those frames count toward a parking dwell, so a cyclist waiting at a long
light became a parked bicycle. `RiderMemory` keeps a track ridden for `memory_s` of frame time after it was
last seen ridden (a person over it, or a person moving with it), so a bike only starts to dwell once its
rider has been away from it that long.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zones.geometry import iou, overlap_of_smaller, ridden_mask

_SAME_OBJECT_IOU = 0.5  # a new track id this close to a lost ridden one is the same bike
_PAIR_GAP_S = 2.0  # sightings further apart than this say nothing about moving together
_MIN_MOVE = 0.1  # of the vehicle's mean side between two sightings: it moved
_SAME_MOVE = 0.5  # person and vehicle moves differ by at most this share of the larger move
_NEAR = 0.15  # overlap of the smaller box: the person is with the vehicle, not passing beside it


@dataclass
class _Sighting:
    box: np.ndarray  # normalised x1, y1, x2, y2
    ts_s: float


@dataclass
class _Vehicle(_Sighting):
    ridden_s: float | None = None  # frame time it was last seen ridden


def _centre(box: np.ndarray) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def moving_together(vehicle_before: np.ndarray, vehicle_now: np.ndarray,
                    person_before: np.ndarray, person_now: np.ndarray) -> bool:
    """A person whose box moved with the vehicle's (same way, similar distance) and overlaps it: its rider,
    or someone walking it. Neither is parking."""
    size = ((vehicle_now[2] - vehicle_now[0]) + (vehicle_now[3] - vehicle_now[1])) / 2
    if size <= 0 or overlap_of_smaller(vehicle_now, person_now) < _NEAR:
        return False
    dv = _centre(vehicle_now) - _centre(vehicle_before)
    dp = _centre(person_now) - _centre(person_before)
    largest = max(float(np.linalg.norm(dv)), float(np.linalg.norm(dp)))
    return largest >= _MIN_MOVE * size and float(np.linalg.norm(dv - dp)) <= _SAME_MOVE * largest


class RiderMemory:
    """Fed every analysed frame of one camera through `update`; says which two-wheelers count as ridden.

    State is kept only for vehicles seen within `memory_s` and people seen within a couple of seconds, so it
    never grows with time. Frame time going backwards (a new clip, a restarted camera) starts afresh.
    """

    def __init__(self, memory_s: float) -> None:
        self.memory_s = memory_s
        self._vehicles: dict[int, _Vehicle] = {}
        self._people: dict[int, _Sighting] = {}
        self._last_ts_s: float | None = None

    def update(self, ts_s: float, boxes: np.ndarray, tracker_id: np.ndarray, vehicles: np.ndarray,
               people: np.ndarray) -> np.ndarray:
        """`vehicles` and `people` are masks over the frame's detections (normalised `boxes`). Returns a mask:
        the vehicles ridden on this frame or within `memory_s` before it (an untracked one: this frame only)."""
        if self._last_ts_s is not None and ts_s < self._last_ts_s:
            self.clear()
        self._last_ts_s = ts_s
        out = np.zeros(len(boxes), dtype=bool)
        v_idx, p_idx = np.flatnonzero(vehicles), np.flatnonzero(people)
        if len(v_idx) and len(p_idx):
            out[v_idx] = ridden_mask(boxes[v_idx], boxes[p_idx])
        present = {int(tracker_id[i]) for i in v_idx if tracker_id[i] >= 0}
        for i in v_idx:
            track = int(tracker_id[i])
            if track < 0:
                continue
            state = self._vehicles.get(track) or self._adopt(track, boxes[i], present)
            if state is not None and not out[i]:
                out[i] = self._moves_with_someone(state, boxes[i], boxes, tracker_id, p_idx, ts_s)
            if state is None:
                state = self._vehicles[track] = _Vehicle(boxes[i].copy(), ts_s)
            state.box, state.ts_s = boxes[i].copy(), ts_s
            if out[i]:
                state.ridden_s = ts_s
            out[i] = state.ridden_s is not None and ts_s - state.ridden_s < self.memory_s
        for i in p_idx:
            if tracker_id[i] >= 0:
                self._people[int(tracker_id[i])] = _Sighting(boxes[i].copy(), ts_s)
        self._forget(ts_s)
        return out

    def _moves_with_someone(self, state: _Vehicle, box: np.ndarray, boxes: np.ndarray, tracker_id: np.ndarray,
                            p_idx: np.ndarray, ts_s: float) -> bool:
        if ts_s - state.ts_s > _PAIR_GAP_S:
            return False
        for j in p_idx:
            before = self._people.get(int(tracker_id[j]))
            if before is not None and before.ts_s == state.ts_s and moving_together(
                    state.box, box, before.box, boxes[j]):
                return True
        return False

    def _adopt(self, track: int, box: np.ndarray, present: set[int]) -> _Vehicle | None:
        """The tracker gave a bike a new id (its rider hid it, it was missed): it keeps its memory."""
        for old, state in list(self._vehicles.items()):
            if old not in present and state.ridden_s is not None and iou(state.box, box) >= _SAME_OBJECT_IOU:
                self._vehicles[track] = self._vehicles.pop(old)
                return self._vehicles[track]
        return None

    def _forget(self, ts_s: float) -> None:
        for track in [t for t, s in self._vehicles.items() if ts_s - s.ts_s >= self.memory_s]:
            del self._vehicles[track]
        for track in [t for t, s in self._people.items() if ts_s - s.ts_s > _PAIR_GAP_S]:
            del self._people[track]

    def clear(self) -> None:
        self._vehicles.clear()
        self._people.clear()
        self._last_ts_s = None
