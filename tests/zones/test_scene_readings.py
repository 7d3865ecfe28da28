"""Scene evidence per zone: polygon masks on a hand-made label map, and the clear baseline on real footage."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from detector.scene import SceneConfig, SceneMap, SceneSegmenter, read_scene_labels
from streams import FileSource, SourceConfig
from tests.conftest import ASSETS, RESIDENTIAL
from zones.config import ZoneConfig
from zones.scene import (
    SCENE_GROUPS,
    BaselineConfig,
    GroupReading,
    SceneBaseline,
    ZoneSceneEvidence,
    available_groups,
    zone_pixels,
    zone_shares,
)

NAMES = ("background", *(f"class{i}" for i in range(1, 151)))
LEFT = [(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]
TOP_RIGHT = [(0.5, 0.0), (1.0, 0.0), (1.0, 0.5), (0.5, 0.5)]
WHOLE = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
# Where the residential street's road is: the lower part of the view, as an operator would draw it.
ROAD = [(0.0, 0.45), (1.0, 0.45), (1.0, 1.0), (0.0, 1.0)]


def hand_made_map() -> SceneMap:
    """A 20 x 20 map with a 16 x 8 frame letterboxed at (2, 5): padding is people (13), the frame's left half
    water (22), its right half road (7), and its top-right quarter an ashcan (139)."""
    labels = np.full((20, 20), 13, dtype=np.uint8)
    labels[5:13, 2:10] = 22
    labels[5:13, 10:18] = 7
    labels[5:9, 10:18] = 139
    return SceneMap(labels, image_size=(160, 80), content=(2, 5, 16, 8), names=NAMES)


def test_polygon_masks_cover_the_right_pixels_past_the_letterbox_offset() -> None:
    scene_map = hand_made_map()
    assert np.array_equal(scene_map.to_map([(0.0, 0.0), (1.0, 1.0)]), [[2, 5], [18, 13]])
    left = set(zone_pixels(tuple(LEFT), 16, 8).tolist())
    assert left == {row * 16 + col for row in range(8) for col in range(8)}
    top_right = set(zone_pixels(tuple(TOP_RIGHT), 16, 8).tolist())
    assert top_right == {row * 16 + col for row in range(4) for col in range(8, 16)}
    shares = zone_shares(scene_map, {"left": LEFT, "top_right": TOP_RIGHT, "whole": WHOLE})
    assert shares["left"]["water"] == 1.0 and shares["left"]["road"] == 0.0
    assert shares["top_right"]["ashcan"] == 1.0
    assert shares["whole"] == pytest.approx(
        {"water": 0.5, "road": 0.25, "ashcan": 0.25, "people": 0.0, "stall": 0.0, "goods": 0.0,
         "bags_boxes": 0.0, "sidewalk": 0.0, "vehicles": 0.0}
    )  # no padding pixel (people) leaks into a zone


def test_zone_configs_and_thin_zones() -> None:
    zone = ZoneConfig(id="gate", kind="road", polygon=LEFT)
    assert zone_shares(hand_made_map(), [zone])["gate"]["water"] == 1.0
    sliver = ((0.70, 0.10), (0.71, 0.10), (0.705, 0.11))  # smaller than one pixel: no pixel centre inside
    pixels = zone_pixels(sliver, 16, 8)
    assert pixels.tolist() == [0 * 16 + 11]  # the pixel under the sliver
    assert zone_shares(hand_made_map(), {"sliver": sliver})["sliver"]["ashcan"] == 1.0


def test_groups_name_the_right_ade20k_classes() -> None:
    names = read_scene_labels(ASSETS / "weights" / "scene" / "ade20k150-labels.txt", 151)
    assert [names[i] for i in SCENE_GROUPS["water"].classes] == ["water", "sea", "river", "swimming", "lake"]
    assert names[57] == "pool" and 57 not in SCENE_GROUPS["water"].classes  # "pool" is the pool table
    assert [names[i] for i in SCENE_GROUPS["ashcan"].classes] == ["ashcan"]
    assert {names[i] for i in SCENE_GROUPS["stall"].classes} >= {"awning", "booth", "canopy", "tent", "stool"}
    small = available_groups(32)
    assert "water" in small and "road" in small
    assert "ashcan" not in small and "bags_boxes" not in small  # the int8 variant cannot show them


def test_baseline_level_json_and_bounded_memory() -> None:
    baseline = SceneBaseline(BaselineConfig(max_samples=8, min_samples=3))
    evidence = baseline.readings({"z": {"water": 0.2}})["z"]["water"]
    assert evidence == GroupReading(0.2, None) and evidence.excess is None  # no level yet
    for share in (0.10, 0.12, 0.11, 0.13, 0.12):
        baseline.learn({"z": {"water": share}})
    level = baseline.level("z", "water")
    assert level is not None and 0.125 <= level < 0.2
    assert baseline.readings({"z": {"water": 0.5}})["z"]["water"].excess == pytest.approx(0.5 - level)
    for _ in range(20):
        baseline.learn({"z": {"water": 0.4}})
    assert baseline.samples("z", "water") == [0.4] * 8  # the oldest are gone
    copy = SceneBaseline.from_json(baseline.to_json())
    assert copy.to_dict() == baseline.to_dict() and copy.level("z", "water") == baseline.level("z", "water")
    baseline.forget(["z"])
    assert baseline.level("z", "water") is None


@pytest.fixture(scope="module")
def residential_frames() -> list[np.ndarray]:
    """One frame every 3 s of the residential clip (no standing water anywhere in it)."""
    frames = [f.image for f in FileSource("test", SourceConfig(url=str(RESIDENTIAL), analysis_fps=1 / 3))]
    assert len(frames) >= 20
    return frames


def test_flooded_road_zone_shows_far_more_water_than_a_dry_one(residential_frames: list[np.ndarray]) -> None:
    segmenter = SceneSegmenter(SceneConfig())
    flooded = cv2.imread(str(ASSETS / "images" / "flooded-street.jpg"))
    wet, dry = segmenter.segment([flooded, residential_frames[0]])
    wet_share = zone_shares(wet, {"road": ROAD})["road"]["water"]
    dry_share = zone_shares(dry, {"road": ROAD})["road"]["water"]
    assert wet_share > 0.6
    assert wet_share > dry_share + 0.3


def test_baseline_from_clear_frames_separates_a_flood_from_the_same_dry_street(
    residential_frames: list[np.ndarray],
) -> None:
    segmenter = SceneSegmenter(SceneConfig())
    tracker = ZoneSceneEvidence({"road": ROAD}, baseline=SceneBaseline(BaselineConfig(min_samples=8)))
    learn, later = residential_frames[:14], residential_frames[14:]
    raw_dry = []
    for scene_map in segmenter.segment(learn):
        evidence = tracker.update(scene_map, clear=True)["road"]["water"]
        raw_dry.append(evidence.share)
    assert max(raw_dry) > 0.05  # the segmenter does call this dry asphalt water: the reason for a baseline
    later_excess = [tracker.update(m)["road"]["water"].excess for m in segmenter.segment(later)]
    assert all(e is not None and e < 0.05 for e in later_excess), later_excess
    flooded = segmenter.segment([cv2.imread(str(ASSETS / "images" / "flooded-street.jpg"))])[0]
    flood = tracker.update(flooded)["road"]["water"]
    assert flood.excess is not None and flood.excess > 0.4
    assert tracker.baseline.samples("road", "water") == [round(s, 4) for s in raw_dry]  # only clear frames taught
