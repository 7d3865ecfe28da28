"""The second look at small zones: crops planned only where the whole frame is too coarse, run in one batch,
boxes back in frame coordinates, cut boxes dropped and duplicates merged."""

from __future__ import annotations

import numpy as np
import pytest

from detector import Detections, Detector, DetectorConfig
from detector.crops import Crop, CropConfig, detect_with_crops, in_frame, merge, plan_crops
from streams import FileSource, SourceConfig
from tests.conftest import ASSETS

FAR = (0.35, 0.0, 0.6, 0.3)  # the far end of the pedestrian street: people 15-40 px high at 1080p
NEAR = (0.0, 0.5, 1.0, 1.0)


def _inside(dets: Detections, bounds: tuple[float, float, float, float], size: tuple[int, int]) -> int:
    anchors = dets.anchors / np.array(size, dtype=np.float32)
    x, y = anchors[:, 0], anchors[:, 1]
    return int(((x >= bounds[0]) & (x <= bounds[2]) & (y >= bounds[1]) & (y <= bounds[3])).sum())


def test_only_zones_that_look_small_to_the_model_get_a_crop_smallest_first():
    config = CropConfig(max_crops=2)
    zones = {"near": NEAR, "far": FAR, "tiny": (0.9, 0.1, 0.95, 0.15)}
    crops = plan_crops(zones, (1920, 1080), 320, config)
    assert [c.zone_id for c in crops] == ["tiny", "far"]
    tiny = crops[0]
    # Never smaller than the model's input over max_upscale, square, inside the frame.
    # 96 x 54 px with 15 % margin each side: a 125 px square, more than the 80 px floor (320 / max_upscale 4).
    assert tiny.x2 - tiny.x1 == tiny.y2 - tiny.y1 == 125
    assert tiny.x1 >= 0 and tiny.x2 <= 1920 and tiny.y1 >= 0
    # The far zone spans 480 of 1920 px: 160 of a 640 model's pixels, on the line, so it is seen whole there.
    assert [c.zone_id for c in plan_crops(zones, (1920, 1080), 640, config)] == ["tiny"]
    assert plan_crops(zones, (1920, 1080), 320, CropConfig(enabled=False)) == []


def test_boxes_cut_by_an_inner_edge_of_the_crop_are_dropped_and_the_rest_move_to_frame_pixels():
    crop = Crop("z", 100, 50, 300, 250)
    found = Detections(np.array([[10, 10, 40, 40], [0, 20, 30, 60], [150, 150, 200, 200.0]]),
                       np.array([0.9, 0.8, 0.7]), np.array(["bag", "bag", "bag"], dtype=object))
    placed = in_frame(crop, found, (1000, 1000), edge_px=2)
    # The second box touches the crop's left edge, the third its bottom and right ones: both were cut.
    assert placed.xyxy.tolist() == [[110, 60, 140, 90]]
    at_frame_edge = in_frame(Crop("z", 0, 0, 200, 200), found, (1000, 1000), edge_px=2)
    assert len(at_frame_edge) == 2  # the frame's own edge cuts nothing the whole-frame pass would see better


def test_one_object_seen_twice_is_one_box_with_the_better_score_and_other_labels_stay():
    frame = Detections(np.array([[0, 0, 10, 10.0]]), np.array([0.4]), np.array(["bag"], dtype=object))
    crop = Detections(np.array([[1, 0, 10, 10], [0, 0, 10, 10.0]]), np.array([0.8, 0.6]),
                      np.array(["bag", "chair"], dtype=object))
    merged = merge(frame, [crop], iou=0.5)
    assert merged.labels.tolist() == ["bag", "chair"]
    assert merged.confidence.tolist() == pytest.approx([0.8, 0.6])


@pytest.fixture(scope="module")
def pedestrian_frame() -> np.ndarray:
    source = FileSource("crops", SourceConfig(url=str(ASSETS / "video" / "pedestrian-street-1080p.mp4"),
                                              analysis_fps=2.0))
    return next(iter(source)).image


def test_a_far_zone_on_a_1080p_street_finds_more_of_its_people_with_a_second_look(pedestrian_frame: np.ndarray):
    detector = Detector(DetectorConfig(imgsz=320))  # a small main pass, as a camera saving CPU would run
    size = (pedestrian_frame.shape[1], pedestrian_frame.shape[0])
    config = CropConfig()
    crops = plan_crops({"far": FAR, "near": NEAR}, size, 320, config)
    assert [c.zone_id for c in crops] == ["far"]
    whole = detector.detect([pedestrian_frame])[0]
    looked = detect_with_crops(detector.detect, [pedestrian_frame], [crops], config)[0]
    def far_people(found: Detections) -> int:  # at a score the rules count (min_confidence is 0.3 to 0.5)
        return _inside(found[(found.labels == "person") & (found.confidence >= 0.4)], FAR, size)

    assert far_people(whole) <= 1 and far_people(looked) >= 3
    # Below the far zone's crop (it ends at y = 624 px) the boxes are the whole frame's.
    below = (0.0, 0.6, 1.0, 1.0)
    assert crops[0].y2 < 0.6 * size[1]
    assert _inside(looked, below, size) == _inside(whole, below, size)
