"""What the rules read of one analysed frame, built once per frame by the pipeline (not once per rule)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from detector import Detections
from zones.geometry import ZoneMap, anchor_points, normalise_boxes


@dataclass(frozen=True)
class FrameContext:
    """One frame: its time, the tracked detections with their normalised boxes, which zone each stands in
    (armed zones only), and zone-level evidence (scene shares, classifier scores) where a camera has it."""

    ts_s: float
    detections: Detections
    boxes: np.ndarray  # normalised x1, y1, x2, y2 per detection
    inside: np.ndarray  # bool [detection, zone]: the anchor is in the zone and the zone is armed
    zone_ids: tuple[str, ...]
    frame_size: tuple[int, int]
    zone_readings: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, ts_s: float, detections: Detections, zone_map: ZoneMap, frame_size: tuple[int, int],
              armed: np.ndarray | None = None, zone_readings: Mapping[str, Any] | None = None) -> FrameContext:
        boxes = normalise_boxes(detections.xyxy, *frame_size)
        inside = zone_map.contains(anchor_points(boxes))
        if armed is not None:
            inside = inside & armed[None, :]
        return cls(ts_s, detections, boxes, inside, tuple(z.id for z in zone_map.zones), frame_size,
                   zone_readings or {})
