"""Image to map and back: a known mapping round-trips within a pixel; a school drawn on the map lands in the image."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import shapely

from zones.homography import Homography, PointPair, _to_degrees
from zones.mapzones import MapZoneConfig

ORIGIN = (116.3990, 39.9312)
# A camera on a pole looking down a street: image (0..1) to ground metres around ORIGIN.
TRUE = np.array([[60.0, 8.0, -34.0], [2.0, -20.0, 25.0], [0.02, 1.1, 0.4]])


def ground(image_points: np.ndarray) -> np.ndarray:
    metres = cv2.perspectiveTransform(np.asarray(image_points, float).reshape(-1, 1, 2), TRUE).reshape(-1, 2)
    return _to_degrees(metres, ORIGIN)


def calibrated(points: list[tuple[float, float]]) -> Homography:
    lonlat = ground(np.array(points))
    return Homography.from_pairs([PointPair(image=p, map=tuple(m)) for p, m in zip(points, lonlat, strict=True)])


PAIRS = [(0.1, 0.55), (0.9, 0.55), (0.95, 0.95), (0.05, 0.95), (0.5, 0.7)]


def test_a_known_mapping_round_trips_within_a_pixel():
    homography = calibrated(PAIRS)
    grid = np.array([(x, y) for x in np.linspace(0.02, 0.98, 9) for y in np.linspace(0.4, 0.98, 9)])
    assert np.abs(homography.to_map(grid) - ground(grid)).max() < 1e-7  # degrees: about a centimetre
    back = homography.to_image(homography.to_map(grid))
    assert np.abs(back - grid).max() * 1920 < 1.0


def test_a_school_drawn_on_the_map_lands_where_the_camera_sees_it():
    homography = calibrated(PAIRS)
    gate = np.array([(0.30, 0.60), (0.70, 0.60), (0.70, 0.85), (0.30, 0.85)])  # where the gate is in the image
    ring = [tuple(p) for p in ground(gate)]
    school = MapZoneConfig(id="school-1", name="实验小学", geometry={"coordinates": [[*ring, ring[0]]]},
                           zone={"kind": "school"})
    zone = school.project(homography)
    assert zone is not None and zone.id == "map-school-1" and zone.kind == "school" and zone.priority == "high"
    drawn = shapely.Polygon(zone.polygon)
    expected = shapely.Polygon(gate)
    assert drawn.symmetric_difference(expected).area < 0.001 * expected.area + 1e-6
    beside = gate + np.array([3.0, 0.0])  # three frame-widths to the right: the camera cannot see it
    far_away = [tuple(p) for p in ground(beside)]
    unseen = MapZoneConfig(id="elsewhere", geometry={"coordinates": [[*far_away, far_away[0]]]})
    assert unseen.project(homography) is None


def test_pairs_that_cannot_define_a_homography_are_refused():
    with pytest.raises(ValueError, match="at least 4"):
        calibrated(PAIRS[:3])
    with pytest.raises(ValueError, match="one line"):
        calibrated([(0.1, 0.5), (0.2, 0.6), (0.3, 0.7), (0.4, 0.8)])
    with pytest.raises(ValueError, match="normalised"):
        PointPair(image=(10, 20), map=ORIGIN)
    with pytest.raises(ValueError, match="polygon"):
        MapZoneConfig(id="x", geometry={"coordinates": [[(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)]]})
