"""The ADE20K segmenter on real shared images: model details, letterbox geometry, batching, both variants."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from detector.litert import LiteRTError
from detector.scene import SceneConfig, SceneMap, SceneSegmenter, letterbox, read_scene_labels
from tests.conftest import ASSETS

WATER_IDS = [22, 27]  # water, sea: both variants output them


@pytest.fixture(scope="module")
def segmenter() -> SceneSegmenter:
    return SceneSegmenter(SceneConfig())


@pytest.fixture(scope="module")
def images() -> dict[str, np.ndarray]:
    return {name: cv2.imread(str(ASSETS / "images" / f"{name}.jpg")) for name in ("flooded-street", "bus")}


def water_share(scene_map: SceneMap) -> float:
    return float(scene_map.shares()[WATER_IDS].sum())


def test_models_inputs_are_read_from_the_files(segmenter: SceneSegmenter) -> None:
    assert list(segmenter.input_details["shape"]) == [1, 513, 513, 3]
    assert segmenter.input_details["dtype"] == np.float32
    assert segmenter.names[:4] == ("background", "wall", "building", "sky")
    assert len(segmenter.names) == 151 and segmenter.names[22] == "water" and segmenter.names[139] == "ashcan"
    small = SceneSegmenter(SceneConfig(variant="ade20k32-int8"))
    assert list(small.input_details["shape"]) == [1, 512, 512, 3]
    assert small.input_details["dtype"] == np.uint8
    assert len(small.names) == 32


def test_letterbox_keeps_aspect_and_records_where_the_frame_lies() -> None:
    image = np.zeros((360, 640, 3), dtype=np.uint8)
    image[..., 2] = 255  # red in BGR
    canvas, content = letterbox(image, 513)
    assert content == (0, 0, 513, 289)
    assert tuple(canvas[10, 10]) == (255, 0, 0)  # RGB now
    assert tuple(canvas[400, 10]) == (128, 128, 128)  # grey padding below
    canvas, content = letterbox(image, 513, "centre")
    assert content == (0, 112, 513, 289)
    assert tuple(canvas[0, 0]) == (128, 128, 128) and tuple(canvas[200, 0]) == (255, 0, 0)


def test_flooded_street_is_water_and_a_dry_street_is_not(
    segmenter: SceneSegmenter, images: dict[str, np.ndarray]
) -> None:
    flooded, bus = segmenter.segment([images["flooded-street"], images["bus"]])
    assert flooded.image_size == (1920, 1080) and flooded.content == (0, 0, 513, 289)
    assert bus.image_size == (810, 1080) and bus.content == (0, 0, 385, 513)
    assert flooded.labels.shape == (513, 513) and flooded.labels.dtype == np.uint8
    assert water_share(flooded) > 0.35
    assert water_share(bus) < 0.02
    road_sidewalk_person = bus.shares()[[7, 12, 13]]
    assert np.all(road_sidewalk_person > 0.1)  # what the bus photo shows, besides the bus


def test_batched_segmentation_gives_the_same_labels(images: dict[str, np.ndarray]) -> None:
    config = SceneConfig(variant="ade20k32-int8")
    single = SceneSegmenter(config)
    batched = SceneSegmenter(config.model_copy(update={"max_batch": 2}))
    frames = [images["flooded-street"], images["bus"], images["flooded-street"]]
    one_by_one = single.segment(frames)
    together = batched.segment(frames)  # a batch of two, then one: the input is resized both ways
    for a, b in zip(one_by_one, together, strict=True):
        assert np.array_equal(a.labels, b.labels)
    assert np.all(together[0].labels < 32)
    assert water_share(together[0]) > 0.35 and water_share(together[1]) < 0.02


def test_a_labels_file_that_does_not_fit_is_refused(tmp_path: Path) -> None:
    short = tmp_path / "labels.txt"
    short.write_text("1 wall\n2 building\n")
    with pytest.raises(LiteRTError, match="2 labels, the model outputs 150"):
        read_scene_labels(short, 151)
    with pytest.raises(LiteRTError, match="not found"):
        SceneSegmenter(SceneConfig(model=str(tmp_path / "missing.tflite")))
