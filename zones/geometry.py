"""Which zone each detection stands in."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from zones.config import ZoneConfig


class ZoneMap:
    """The zones of one camera, tested against anchor points in one vectorised call per zone.

    Points and polygons are both normalised, so the frame size only enters when
    the anchors are divided by it.
    """

    def __init__(self, zones: Sequence[ZoneConfig]) -> None:
        self.zones = list(zones)
        self._polygons = [shapely.Polygon(z.polygon) for z in self.zones]
        for polygon in self._polygons:
            shapely.prepare(polygon)

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Boolean (points x zones): is normalised point i inside zone j.

        A point on the edge counts as inside, so a zone drawn to the frame's border
        catches an object whose box touches that border.
        """
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if not self._polygons or len(points) == 0:
            return np.zeros((len(points), len(self._polygons)), dtype=bool)
        x, y = points[:, 0], points[:, 1]
        return np.column_stack([shapely.intersects_xy(p, x, y) for p in self._polygons])


def normalise_boxes(xyxy: np.ndarray, width: int, height: int) -> np.ndarray:
    return np.asarray(xyxy, dtype=np.float64) / np.array([width, height, width, height], dtype=np.float64)


def anchor_points(xyxy_norm: np.ndarray) -> np.ndarray:
    """Bottom centre of normalised boxes."""
    return np.stack([(xyxy_norm[:, 0] + xyxy_norm[:, 2]) / 2, xyxy_norm[:, 3]], axis=1)


def overlap_of_smaller(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over the smaller box's area: 1.0 when one box lies inside the other."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return float(iw * ih / smaller) if smaller > 0 else 0.0


def iou(a: np.ndarray, b: np.ndarray) -> float:
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def centre_shift(reference: np.ndarray, box: np.ndarray) -> float:
    """How far the box centre moved, in units of the reference box's mean side."""
    ref_centre = np.array([(reference[0] + reference[2]) / 2, (reference[1] + reference[3]) / 2])
    centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
    size = ((reference[2] - reference[0]) + (reference[3] - reference[1])) / 2
    return float(np.linalg.norm(centre - ref_centre) / size) if size > 0 else float("inf")


def ridden_mask(vehicles: np.ndarray, people: np.ndarray) -> np.ndarray:
    """Which two-wheelers have a person on them on this frame: someone over the vehicle's box (centred on it,
    or half the narrower box's width over it) with the head above its top and the legs in its lower half.

    A rider's box is often cut (legs hidden by the bike or a car, a pole across it), so a box that rises
    clearly above the vehicle and just reaches into its top also counts. Feet above the vehicle's top are
    someone behind it. One frame is not enough either way: `zones.riders.RiderMemory` remembers."""
    if len(vehicles) == 0 or len(people) == 0:
        return np.zeros(len(vehicles), dtype=bool)
    v = vehicles[:, None, :]
    p = people[None, :, :]
    centre_x = (p[..., 0] + p[..., 2]) / 2
    height = v[..., 3] - v[..., 1]
    overlap_x = np.minimum(v[..., 2], p[..., 2]) - np.maximum(v[..., 0], p[..., 0])
    narrower = np.minimum(v[..., 2] - v[..., 0], p[..., 2] - p[..., 0])
    over = ((centre_x >= v[..., 0]) & (centre_x <= v[..., 2])) | (overlap_x >= 0.5 * narrower)
    whole = (p[..., 1] < v[..., 1] + 0.25 * height) & (p[..., 3] > v[..., 1] + 0.5 * height)
    cut = (p[..., 1] < v[..., 1] - 0.1 * height) & (p[..., 3] > v[..., 1] + 0.05 * height)
    return np.any(over & (whole | cut), axis=1)


def union_box(boxes: list[np.ndarray]) -> np.ndarray:
    stacked = np.stack(boxes)
    return np.array([stacked[:, 0].min(), stacked[:, 1].min(), stacked[:, 2].max(), stacked[:, 3].max()])
