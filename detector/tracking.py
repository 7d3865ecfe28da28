"""Per-camera tracking with Ultralytics' ByteTrack."""

from __future__ import annotations

import math
from collections import deque
from statistics import median
from types import SimpleNamespace

import numpy as np

from detector.config import TrackerConfig
from detector.detections import Detections


class Tracker:
    """Gives each detection of one camera a track id that persists across frames (ByteTrack or BoT-SORT).

    One instance per camera: ids are per tracker, so replays are repeatable and
    cameras never share identities. Boxes keep the detector's own coordinates.

    ByteTrack counts a lost track's age in frames; `lost_s` is seconds of the camera's own time. The frame count
    follows the interval between the frames actually analysed (median of the last few), so key frames at 1 a
    second and 2 frames a second both keep a hidden object `lost_s`; `analysis_fps` is only the first guess.
    A gap in the frames longer than `lost_s` (an outage) forgets every track; new ids never reuse old ones.
    """

    def __init__(self, config: TrackerConfig, analysis_fps: float) -> None:
        from ultralytics.engine.results import Boxes
        from ultralytics.trackers import BOTSORT, BYTETracker
        from ultralytics.trackers.basetrack import TrackState

        self._boxes_type = Boxes
        self._removed = TrackState.Removed
        self.lost_s = config.lost_s
        self._interval_s = 1.0 / analysis_fps
        self._intervals: deque[float] = deque(maxlen=15)
        self._last_ts: float | None = None
        args = SimpleNamespace(
            tracker_type=config.method,
            track_high_thresh=config.high_threshold,
            track_low_thresh=config.low_threshold,
            new_track_thresh=config.new_track_threshold,
            track_buffer=self.buffer_frames,  # set again below, and whenever the frames' interval changes
            match_thresh=config.match_threshold,
            fuse_score=True,
            # BoT-SORT only: global motion compensation, no appearance model (none ships offline).
            gmc_method="sparseOptFlow",
            proximity_thresh=0.5,
            appearance_thresh=0.8,
            with_reid=False,
            model="auto",
        )
        self._tracker = BOTSORT(args) if config.method == "botsort" else BYTETracker(args)
        self._set_buffer()

    @property
    def buffer_frames(self) -> int:
        """Frames after its last sighting a lost track can still be found: `lost_s` at the analysed interval."""
        return max(1, math.floor(self.lost_s / self._interval_s + 1e-9))

    def _set_buffer(self) -> None:
        # ByteTrack matches lost tracks before it drops stale ones: `max_frames_lost` n finds a track n + 1 frames on.
        for name in ("max_frames_lost", "max_time_lost"):  # Ultralytics 8.4's name, and the 8.3 one
            if hasattr(self._tracker, name):
                setattr(self._tracker, name, self.buffer_frames - 1)

    def _drop_removed(self) -> None:
        """ByteTrack leaves a track it has just removed among the lost ones for one more frame, where it can still
        be matched; dropped here so that `lost_s` is the whole allowance."""
        self._tracker.lost_stracks = [t for t in self._tracker.lost_stracks if t.state != self._removed]

    def _follow_time(self, ts_s: float) -> None:
        last, self._last_ts = self._last_ts, ts_s
        if last is None:
            return
        gap = ts_s - last
        if not 0.0 <= gap <= self.lost_s:  # an outage, or a timeline that jumped back: no identity survives it
            for tracks in (self._tracker.tracked_stracks, self._tracker.lost_stracks, self._tracker.removed_stracks):
                tracks.clear()
            return
        if gap > 0:
            self._intervals.append(gap)
            self._interval_s = median(self._intervals)
            self._set_buffer()

    def update(self, detections: Detections, image: np.ndarray, ts_s: float | None = None) -> Detections:
        """Detections that belong to a confirmed track, with `tracker_id` set; `ts_s` is the frame's time, which
        sets how many frames `lost_s` is (without it the first guess stays)."""
        if ts_s is not None:
            self._follow_time(ts_s)
        image_shape = image.shape[:2]
        if len(detections):
            class_index = np.zeros(len(detections), dtype=np.float32)  # labels travel separately
            data = np.column_stack([detections.xyxy, detections.confidence, class_index])
        else:
            data = np.zeros((0, 6), dtype=np.float32)
        tracks = self._tracker.update(self._boxes_type(data, image_shape), image)
        self._drop_removed()
        if len(tracks) == 0:
            return Detections.empty()
        index = tracks[:, -1].astype(int)
        return detections[index].with_tracker_ids(tracks[:, 4].astype(int))
