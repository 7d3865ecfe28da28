"""The worker's second look: zones that look small to the model are detected again on their own crop.

Which zones: those watching a class the detector's boxes show in small things (stalls' umbrellas, chairs
and tables out front, bags on the ground, bins), read from each camera's current zones on every batch, so
a zone reload applies at once. Parking zones never get one: a car is seen whole from afar, and its
tracker wants one box per car per frame. The crops run in the same inference call as the frames
(detector/crops.py), on every analysed frame of that camera: the presence and cluster rules count a share
of frames, which a crop on some frames only would cap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from detector import Detections
from detector.crops import Bounds, Crop, CropConfig, detect_with_crops, plan_crops
from streams import Frame
from zones import ProblemClass, ZoneConfig

# Classes whose evidence is small objects a far camera shrinks away (COCO proxies, a garbage/bin model's boxes).
LOOKED_AT = frozenset({ProblemClass.STREET_VENDING, ProblemClass.OUTSIDE_STORE_BUSINESS,
                       ProblemClass.EXPOSED_GARBAGE, ProblemClass.OVERFLOWING_BIN})

Detect = Callable[[list[np.ndarray]], list[Detections]]


def zone_bounds(zone: ZoneConfig) -> Bounds:
    xs, ys = [x for x, _ in zone.polygon], [y for _, y in zone.polygon]
    return min(xs), min(ys), max(xs), max(ys)


class SecondLook:
    """Plans each frame's crops from its camera's zones and runs them with the frames; counts what it did."""

    def __init__(self, config: CropConfig, model_size: int) -> None:
        self.config = config
        self.model_size = model_size
        self.crops_run = 0
        self._plans: dict[tuple[str, tuple[int, int], tuple[tuple[str, Bounds], ...]], list[Crop]] = {}

    def crops_for(self, frame: Frame, zones: Sequence[ZoneConfig]) -> list[Crop]:
        looked = tuple((z.id, zone_bounds(z)) for z in zones if LOOKED_AT.intersection(z.classes))
        if not self.config.enabled or not looked:
            return []
        key = (frame.camera_id, (frame.width, frame.height), looked)
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) > 1024:  # zones reloaded many times over: start the cache again
                self._plans.clear()
            plan = self._plans[key] = plan_crops(dict(looked), (frame.width, frame.height), self.model_size,
                                                 self.config)
        return plan

    def detect(self, detect: Detect, frames: Sequence[Frame], zones_of: Callable[[str], Sequence[ZoneConfig]]
               ) -> list[Detections]:
        """`detect` over the frames and the crops their zones need, merged per frame (one call)."""
        crops = [self.crops_for(frame, zones_of(frame.camera_id)) for frame in frames]
        images = [frame.image for frame in frames]
        if not any(crops):
            return detect(images)
        self.crops_run += sum(len(c) for c in crops)
        return detect_with_crops(detect, images, crops, self.config)
