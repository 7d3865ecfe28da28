from __future__ import annotations

import numpy as np

from zones import ZoneConfig, ZoneMap, anchor_points, normalise_boxes

SQUARE = [(0.2, 0.2), (0.6, 0.2), (0.6, 0.6), (0.2, 0.6)]
TRIANGLE = [(0.5, 0.5), (1.0, 0.5), (1.0, 1.0)]


def test_anchor_is_the_bottom_centre_of_the_box():
    boxes = normalise_boxes(np.array([[100, 50, 300, 250]]), 1000, 500)
    assert anchor_points(boxes).tolist() == [[0.2, 0.5]]


def test_a_box_is_in_the_zone_its_anchor_is_in_not_where_its_top_is():
    zone_map = ZoneMap([
        ZoneConfig(id="square", kind="no_parking", polygon=SQUARE),
        ZoneConfig(id="triangle", kind="general", polygon=TRIANGLE),
    ])
    # Box A's top reaches into the square but its anchor (0.4, 0.7) stands below it.
    boxes = normalise_boxes(np.array([[300, 300, 500, 700], [300, 100, 500, 500], [850, 600, 950, 800]]), 1000, 1000)
    inside = zone_map.contains(anchor_points(boxes))
    assert inside.tolist() == [[False, False], [True, False], [False, True]]


def test_a_point_on_the_frame_border_is_inside_a_zone_drawn_to_the_border():
    zone_map = ZoneMap([ZoneConfig(id="all", kind="general", polygon=[(0, 0), (1, 0), (1, 1), (0, 1)])])
    assert zone_map.contains(np.array([[0.5, 1.0], [1.2, 0.5]])).tolist() == [[True], [False]]


def test_no_zones_and_no_points_give_empty_masks():
    assert ZoneMap([]).contains(np.array([[0.5, 0.5]])).shape == (1, 0)
    assert ZoneMap([ZoneConfig(id="s", kind="road", polygon=SQUARE)]).contains(np.zeros((0, 2))).shape == (0, 1)
