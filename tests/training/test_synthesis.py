"""CCTV-like synthesis on the real shared assets: valid labels on the ground, the perspective rule, held-apart
splits, byte-identical reruns and test clips the evaluation loads."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import av
import numpy as np
import pytest
from shapely.geometry import Point

from detector import Detector, DetectorConfig
from evaluation.truth import load_truth
from training.synthesis import TEST_CLIPS, TRAIN_CLIPS, synthesize
from training.synthesis.cutouts import assets_dir, load_cutouts, source_id
from training.synthesis.ground import GROUND

SMALL = {"train": 8, "val": 4, "clips": 1, "negative_clips": 1, "clip_seconds": 4.0, "pool_per_clip": 3,
         "bag_images": 30}


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(DetectorConfig())


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, detector: Detector) -> Path:
    out = tmp_path_factory.mktemp("synth-a")
    synthesize(out, detector, seed=7, **SMALL)
    return out


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def _digests(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((out / "images").rglob("*")) + sorted((out / "labels").rglob("*")) if p.is_file()}


def test_labels_are_yolo_boxes_inside_the_image(run: Path) -> None:
    labels = sorted((run / "labels").rglob("*.txt"))
    assert len(labels) == SMALL["train"] + SMALL["val"]
    boxes = 0
    for label in labels:
        assert (run / "images" / label.parent.name / f"{label.stem}.jpg").is_file()
        for line in label.read_text().splitlines():
            cls, cx, cy, w, h = line.split()
            x, y, bw, bh = map(float, (cx, cy, w, h))
            assert cls == "0"
            assert 0 < bw <= 1 and 0 < bh <= 1
            assert x - bw / 2 >= 0 and x + bw / 2 <= 1 + 1e-6 and y - bh / 2 >= 0 and y + bh / 2 <= 1 + 1e-6
            boxes += 1
    assert boxes > 0
    assert "0: garbage" in (run / "data.yaml").read_text() and "2: overflow" in (run / "data.yaml").read_text()


def test_bags_lie_on_the_ground_and_follow_perspective(run: Path) -> None:
    records = [r for split in _manifest(run)["images"].values() for r in split]
    bags = [(r["clip"], b) for r in records for b in r["bags"]]
    assert bags
    for clip, bag in bags:
        x1, y1, x2, y2 = bag["box"]
        ground = GROUND[clip]
        assert ground.shape.buffer(0.03).contains(Point((x1 + x2) / 2, y2)), (clip, bag["box"])
        expected = ground.bag_height(bag["bottom_y"])
        assert 0.6 * expected <= y2 - y1 <= 1.3 * expected, (clip, y2 - y1, expected)
    for ground in GROUND.values():  # smaller higher in the frame, on every clip
        assert ground.bag_height(ground.y_top) < ground.bag_height(1.0)


def test_train_and_val_are_held_apart(run: Path) -> None:
    images = _manifest(run)["images"]
    train_clips, val_clips = {r["clip"] for r in images["train"]}, {r["clip"] for r in images["val"]}
    assert train_clips <= set(TRAIN_CLIPS) and val_clips <= set(TEST_CLIPS)
    assert not train_clips & val_clips
    train_bags = {b["cutout"] for r in images["train"] for b in r["bags"]}
    val_bags = {b["cutout"] for r in images["val"] for b in r["bags"]}
    assert train_bags and val_bags and not train_bags & val_bags
    # The trashbags photos Roboflow put in both splits never become train cut-outs.
    valid_sources = {source_id(p.name) for p in (assets_dir() / "datasets/trashbags/valid/images").glob("*")}
    assert not {c.source for c in load_cutouts("train", 120)} & valid_sources


def test_negatives_have_empty_labels(run: Path) -> None:
    images = _manifest(run)["images"]
    for split, records in images.items():
        for record in records:
            text = (run / "labels" / split / f"{record['name']}.txt").read_text()
            assert (text == "") == (not record["bags"])


def test_same_seed_same_bytes_other_seed_differs(run: Path, tmp_path: Path, detector: Detector) -> None:
    again, other = tmp_path / "again", tmp_path / "other"
    synthesize(again, detector, seed=7, **SMALL)
    synthesize(other, detector, seed=8, **SMALL)
    assert _digests(again) == _digests(run)
    assert _digests(other) != _digests(run)


def test_test_clips_open_and_truth_loads(run: Path) -> None:
    test_clips = _manifest(run)["test_clips"]
    assert [c["t0"] is not None for c in test_clips] == [True, False]
    for clip in test_clips:
        with av.open(str(run / clip["path"])) as container:
            stream = container.streams.video[0]
            frames = sum(1 for _ in container.decode(stream))
            assert (stream.width, stream.height) in {(1920, 1080), (426, 240)}
        assert frames == clip["frames"] == round(SMALL["clip_seconds"] * clip["fps"])
    truth = load_truth(run / "truth-clips.yaml")
    assert len(truth.clips) == 2
    bag, clear = truth.clips
    assert bag.truth and bag.truth[0].problem.value == "exposed_garbage"
    assert bag.truth[0].start_s == pytest.approx(test_clips[0]["t0"])
    x, y = bag.truth[0].at
    (zx1, zy1), _, (zx2, zy2), _ = bag.zones[0].polygon
    assert zx1 < x < zx2 and zy1 < y < zy2
    assert clear.truth == []
    assert load_truth(run / "truth-images.yaml").images[0].positives


def test_the_bag_appears_at_t0(run: Path) -> None:
    clip = _manifest(run)["test_clips"][0]
    x, y = clip["at"]
    means = []
    with av.open(str(run / clip["path"])) as container:
        for frame in container.decode(video=0):
            image = frame.to_ndarray(format="bgr24")
            h, w = image.shape[:2]
            means.append(image[int(y * h) - 2:int(y * h) + 3, int(x * w) - 2:int(x * w) + 3].astype(float))
    first = int(np.ceil(clip["t0"] * clip["fps"]))
    after = [np.abs(m - means[first]).mean() for m in means[first:]]
    assert max(after) < 12  # the bag stays (noise and compression only)
    assert np.abs(means[first - 1] - means[first]).mean() > 8  # and was not there just before
