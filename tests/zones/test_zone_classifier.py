"""Zone heads on a frozen encoder, trained on the shared bins set (full = problem); the retraining policy."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from detector.encoder import EncoderConfig, ImageEncoder
from tests.conftest import ASSETS
from zones.classifier import HeadTrainer, RetrainPolicy, ZoneClassifier, accuracy, crop_zone

BINS = ASSETS / "datasets" / "bins-full-notfull"
TRAIN, HELD_OUT = 20, 30  # per class


@pytest.fixture(scope="module")
def encoder() -> ImageEncoder:
    return ImageEncoder(EncoderConfig(variant="efficientnet-lite3"))


@pytest.fixture(scope="module")
def bins(encoder: ImageEncoder) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Embeddings and labels: `train` (20 per class) and `held_out` (30 per class), drawn once with a fixed seed."""
    rng = np.random.default_rng(7)
    parts: dict[str, tuple[list[np.ndarray], list[bool]]] = {"train": ([], []), "held_out": ([], [])}
    for folder, full in (("full", True), ("not_full", False)):
        files = sorted((BINS / folder).glob("*.jpg"))
        picked = rng.choice(len(files), TRAIN + HELD_OUT, replace=False)
        for i, index in enumerate(picked):
            part = parts["train" if i < TRAIN else "held_out"]
            part[0].append(cv2.imread(str(files[index])))
            part[1].append(full)
    return {name: (encoder.embed(images), np.array(labels)) for name, (images, labels) in parts.items()}


def test_encoder_reads_the_layer_before_the_classifier(encoder: ImageEncoder) -> None:
    assert encoder.dim == 1280 and encoder.input_size == (280, 280)
    assert encoder.batch == 1  # the runtime refuses a batch for this model; embed still takes many crops
    crops = [np.full((50, 80, 3), value, dtype=np.uint8) for value in (30, 200)]
    rows = encoder.embed(crops)
    assert rows.shape == (2, 1280) and rows.dtype == np.float32
    assert np.all(rows >= 0) and not np.allclose(rows[0], rows[1])  # ReLU6 features, different per crop
    assert np.array_equal(encoder.embed(crops[:1])[0], rows[0])
    batched = ImageEncoder(EncoderConfig(variant="mobilenet-edgetpu", max_batch=4))
    assert batched.batch == 4 and batched.dim == 1280
    many = batched.embed(crops * 3)  # 6 crops: a full batch and a padded one
    assert many.shape == (6, 1280) and np.array_equal(many[4], batched.embed(crops[:1])[0])
    probabilities = ImageEncoder(EncoderConfig(variant="efficientnet-lite3", layer="probabilities"))
    labels = (ASSETS / "weights" / "scene" / "imagenet-labels.txt").read_text().splitlines()
    a_bin = cv2.imread(str(sorted((BINS / "not_full").glob("*.jpg"))[0]))
    scores = probabilities.embed([a_bin])[0]
    assert scores.shape == (1000,) and 0.3 < scores.sum() <= 1.01
    assert labels[int(np.argmax(scores))].startswith("ashcan") and scores.max() > 0.5  # the input is fed right


def test_crop_zone_cuts_the_box_and_masks_outside_the_polygon() -> None:
    image = np.zeros((100, 200, 3), dtype=np.uint8)
    image[:, :] = (0, 0, 255)
    triangle = [(0.25, 0.2), (0.75, 0.2), (0.25, 0.8)]
    crop = crop_zone(image, triangle)
    assert crop.shape == (60, 100, 3) and np.all(crop == (0, 0, 255))
    masked = crop_zone(image, triangle, mask=True)
    assert tuple(masked[5, 5]) == (0, 0, 255)  # inside, near the right angle
    assert tuple(masked[55, 95]) == (128, 128, 128)  # outside, across the hypotenuse
    padded = crop_zone(image, triangle, pad=0.1)
    assert padded.shape == (72, 120, 3)
    edge = crop_zone(image, [(0.9, 0.9), (1.0, 0.9), (1.0, 1.0)], pad=0.5)  # growing stops at the border
    assert edge.shape == (15, 30, 3)


def test_a_head_on_20_bins_per_class_beats_chance_clearly(bins: dict) -> None:
    x, y = bins["train"]
    head = ZoneClassifier.fit(x, y, "efficientnet-lite3/features")
    accuracy_, balanced = accuracy(head, *bins["held_out"])
    assert balanced > 0.7 and accuracy_ > 0.7, (accuracy_, balanced)
    assert accuracy(head, x, y)[1] > balanced - 0.01  # it fits its own labels at least as well


def test_save_and_load_give_the_same_probabilities(bins: dict, tmp_path: Path) -> None:
    x, y = bins["train"]
    head = ZoneClassifier.fit(x, y, "efficientnet-lite3/features")
    path = tmp_path / "head.json"
    head.save(path)
    loaded = ZoneClassifier.load(path)
    held_out = bins["held_out"][0]
    assert np.array_equal(loaded.predict_proba(held_out), head.predict_proba(held_out))
    assert loaded.encoder == "efficientnet-lite3/features" and loaded.meta["n_problem"] == TRAIN
    with pytest.raises(ValueError, match="takes 1280"):
        loaded.predict_proba(np.ones((1, 1001)))


def test_trainer_waits_for_labels_then_holds_back_a_stratified_share(bins: dict) -> None:
    x, y = bins["train"]
    trainer = HeadTrainer("efficientnet-lite3/features", RetrainPolicy(min_new=5, min_per_class=5))
    held = [trainer.add(x[i], y[i]) for i in range(3)]
    report = trainer.maybe_retrain()
    assert not report.trained and "waiting for 5" in report.reason and trainer.head is None
    held += [trainer.add(x[i], y[i]) for i in range(3, len(y))]
    assert sum(held) == 10  # every fourth label of each kind: 5 of 20 full, 5 of 20 not full
    assert sum(h for h, label in zip(held, y, strict=True) if label) == 5
    report = trainer.maybe_retrain()
    assert report.trained and report.replaced and report.reason == "first head"
    assert (report.n_labels, report.n_train, report.n_holdout) == (40, 30, 10)
    assert trainer.head is not None and report.balanced_new is not None
    assert not trainer.maybe_retrain().trained  # nothing new since


def test_retraining_keeps_the_old_head_when_the_new_one_is_worse(bins: dict) -> None:
    x, y = bins["train"]
    hx, hy = bins["held_out"]
    good = ZoneClassifier.fit(x, y, "efficientnet-lite3/features")
    trainer = HeadTrainer("efficientnet-lite3/features", RetrainPolicy(min_new=5, min_per_class=5), head=good)
    for embedding, label in zip(hx, hy, strict=True):
        trainer.add(embedding, label, holdout=True)  # audited labels: the judge
    for embedding, label in zip(x, y, strict=True):
        trainer.add(embedding, not label, holdout=False)  # a careless reviewer swapped every training label
    report = trainer.maybe_retrain()
    assert report.trained and not report.replaced and "worse" in report.reason
    assert trainer.head is good
    assert report.balanced_old is not None and report.balanced_new is not None
    assert report.balanced_old > 0.7 > report.balanced_new

    honest = HeadTrainer("efficientnet-lite3/features", RetrainPolicy(min_new=5, min_per_class=5), head=good)
    for embedding, label in zip(hx, hy, strict=True):
        honest.add(embedding, label, holdout=True)
    for embedding, label in zip(x, y, strict=True):
        honest.add(embedding, label, holdout=False)
    report = honest.maybe_retrain()
    assert report.replaced and honest.head is not good  # the same labels, fit again: as good, so replaced


def test_a_head_for_another_encoder_is_refused() -> None:
    head = ZoneClassifier(np.zeros(1001), 0.0, "mobilenet-edgetpu/probabilities")
    with pytest.raises(ValueError, match="takes mobilenet-edgetpu/probabilities embeddings"):
        HeadTrainer("efficientnet-lite3/features", head=head)
