"""Per-camera tracking with Ultralytics' ByteTrack."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from detector.config import TrackerConfig
from detector.detections import Detections


class Tracker:
    """Gives each detection of one camera a track id that persists across frames (ByteTrack or BoT-SORT).

    One instance per camera: ids are per tracker, so replays are repeatable and
    cameras never share identities. Boxes keep the detector's own coordinates.
    """

    def __init__(self, config: TrackerConfig, analysis_fps: float) -> None:
        from ultralytics.engine.results import Boxes
        from ultralytics.trackers import BOTSORT, BYTETracker

        self._boxes_type = Boxes
        args = SimpleNamespace(
            tracker_type=config.method,
            track_high_thresh=config.high_threshold,
            track_low_thresh=config.low_threshold,
            new_track_thresh=config.new_track_threshold,
            track_buffer=max(1, math.ceil(config.lost_s * analysis_fps)),
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

    def update(self, detections: Detections, image: np.ndarray) -> Detections:
        """Detections that belong to a confirmed track, with `tracker_id` set."""
        image_shape = image.shape[:2]
        if len(detections):
            class_index = np.zeros(len(detections), dtype=np.float32)  # labels travel separately
            data = np.column_stack([detections.xyxy, detections.confidence, class_index])
        else:
            data = np.zeros((0, 6), dtype=np.float32)
        tracks = self._tracker.update(self._boxes_type(data, image_shape), image)
        if len(tracks) == 0:
            return Detections.empty()
        index = tracks[:, -1].astype(int)
        return detections[index].with_tracker_ids(tracks[:, 4].astype(int))
