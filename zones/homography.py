"""A camera's view of the ground, tied to the map: image points (0..1) to lon/lat and back.

An operator enters at least four pairs of an image point and the map point it shows (kerb corners,
road markings). OpenCV fits the plane-to-plane homography. Lon/lat go through local metres around
the first map point first, so the fit works on numbers of similar size and the plane is the ground's.
A school area drawn once on the map (GeoJSON) then lands in every camera that sees it, and every
event gets a position from its anchor (where the object touches the ground).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import shapely
from pydantic import BaseModel, ConfigDict, Field, field_validator

_METRES_PER_DEGREE_LAT = 110_540.0
_METRES_PER_DEGREE_LON_AT_EQUATOR = 111_320.0


class PointPair(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image: tuple[float, float] = Field(description="x, y as fractions of the image's width and height.")
    map: tuple[float, float] = Field(description="lon, lat (WGS 84).")

    @field_validator("image")
    @classmethod
    def _in_frame(cls, point: tuple[float, float]) -> tuple[float, float]:
        if not (0.0 <= point[0] <= 1.0 and 0.0 <= point[1] <= 1.0):
            raise ValueError(f"an image point is normalised to 0..1, got {point}")
        return point

    @field_validator("map")
    @classmethod
    def _on_earth(cls, point: tuple[float, float]) -> tuple[float, float]:
        if not (-180.0 <= point[0] <= 180.0 and -90.0 <= point[1] <= 90.0):
            raise ValueError(f"a map point is lon in -180..180, lat in -90..90, got {point}")
        return point


class Homography:
    def __init__(self, matrix: np.ndarray, origin: tuple[float, float]) -> None:
        self.matrix = np.asarray(matrix, dtype=np.float64).reshape(3, 3)
        self.inverse = np.linalg.inv(self.matrix)
        self.origin = origin

    @classmethod
    def from_pairs(cls, pairs: Sequence[PointPair]) -> Homography:
        """The least-squares fit of ≥ 4 pairs; ValueError when they cannot define a plane (collinear, repeated)."""
        if len(pairs) < 4:
            raise ValueError(f"a homography needs at least 4 point pairs, got {len(pairs)}")
        origin = pairs[0].map
        image = np.array([p.image for p in pairs], dtype=np.float64)
        ground = _to_metres(np.array([p.map for p in pairs], dtype=np.float64), origin)
        for points, name in ((image, "image"), (ground, "map")):
            if _collinear(points):
                raise ValueError(f"the {name} points lie on one line: they cannot tie the image to the ground")
        import cv2  # here, not at the top: the API process places zones on the map without loading OpenCV

        matrix, _mask = cv2.findHomography(image, ground, method=0)
        if matrix is None or not np.isfinite(matrix).all() or abs(np.linalg.det(matrix)) < 1e-12:
            raise ValueError("these point pairs do not define a homography")
        return cls(matrix, origin)

    def to_map(self, image_points: np.ndarray) -> np.ndarray:
        """Image points (0..1) to lon/lat."""
        ground = _apply(self.matrix, np.asarray(image_points, dtype=np.float64).reshape(-1, 2))
        return _to_degrees(ground, self.origin)

    def to_image(self, map_points: np.ndarray) -> np.ndarray:
        """lon/lat to image points (0..1; outside that range when the camera does not see them)."""
        ground = _to_metres(np.asarray(map_points, dtype=np.float64).reshape(-1, 2), self.origin)
        return _apply(self.inverse, ground)

    def project_polygon(self, ring: Sequence[Sequence[float]],
                        min_area: float = 0.001) -> list[tuple[float, float]] | None:
        """A lon/lat polygon as the camera sees it, clipped to the frame; None when it is (nearly) out of view.

        Only the part in front of the camera is kept: points behind it flip through the horizon, so the
        polygon is cut to the ground the image shows before it is mapped."""
        frame = self.ground_in_view()
        if len(frame) < 3:
            return None
        visible = shapely.Polygon(self.to_map(np.array(frame, dtype=np.float64)))
        area = shapely.Polygon([tuple(p[:2]) for p in ring])
        if not area.is_valid or not visible.is_valid:
            return None
        seen = area.intersection(visible)
        if seen.is_empty or seen.geom_type != "Polygon":
            seen = max(getattr(seen, "geoms", []), key=lambda g: g.area, default=None)
            if seen is None or seen.geom_type != "Polygon":
                return None
        image = self.to_image(np.array(seen.exterior.coords[:-1]))
        clipped = shapely.Polygon(image).intersection(shapely.box(0, 0, 1, 1))
        if clipped.is_empty or clipped.geom_type != "Polygon" or clipped.area < min_area:
            return None
        clipped = shapely.set_precision(clipped, 1e-6)
        return [(round(float(x), 6), round(float(y), 6)) for x, y in clipped.exterior.coords[:-1]]


    def ground_in_view(self, margin: float = 0.02) -> list[tuple[float, float]]:
        """The part of the frame (0..1) below the horizon: there the image maps to the ground in front of the
        camera; above it (the sky, or rooftops) the mapping flips behind the camera and means nothing."""
        a, b, c = self.matrix[2]
        sign = 1.0 if a * 0.5 + b * 1.0 + c > 0 else -1.0  # the bottom of the frame is on the ground
        square = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
        floor = margin * abs(a * 0.5 + b * 1.0 + c)
        return _clip(square, lambda x, y: sign * (a * x + b * y + c) - floor)


def _clip(polygon: list[tuple[float, float]], side: Callable[[float, float], float]) -> list[tuple[float, float]]:
    """Sutherland-Hodgman: the part of a convex polygon where the linear function `side` is >= 0."""
    kept: list[tuple[float, float]] = []
    for i, current in enumerate(polygon):
        previous = polygon[i - 1]
        v_now, v_before = side(*current), side(*previous)
        if (v_now >= 0) != (v_before >= 0):
            t = v_before / (v_before - v_now)
            kept.append((previous[0] + t * (current[0] - previous[0]), previous[1] + t * (current[1] - previous[1])))
        if v_now >= 0:
            kept.append(current)
    return kept


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """`cv2.perspectiveTransform` in NumPy: projecting points needs no OpenCV in the API process."""
    projected = np.column_stack([points, np.ones(len(points))]) @ matrix.T
    return projected[:, :2] / projected[:, 2:3]


def _to_metres(lonlat: np.ndarray, origin: tuple[float, float]) -> np.ndarray:
    scale_x = _METRES_PER_DEGREE_LON_AT_EQUATOR * math.cos(math.radians(origin[1]))
    return np.column_stack([(lonlat[:, 0] - origin[0]) * scale_x, (lonlat[:, 1] - origin[1]) * _METRES_PER_DEGREE_LAT])


def _to_degrees(metres: np.ndarray, origin: tuple[float, float]) -> np.ndarray:
    scale_x = _METRES_PER_DEGREE_LON_AT_EQUATOR * math.cos(math.radians(origin[1]))
    return np.column_stack([metres[:, 0] / scale_x + origin[0], metres[:, 1] / _METRES_PER_DEGREE_LAT + origin[1]])


def _collinear(points: np.ndarray) -> bool:
    centred = points - points.mean(axis=0)
    singular = np.linalg.svd(centred, compute_uv=False)
    return bool(singular[-1] <= 1e-9 * max(1.0, singular[0]))
