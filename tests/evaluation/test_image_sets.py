"""Labelled image sets in a truth file: checked field by field before anything runs, each image shown to the
pipeline as a still camera, scored per set and class."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation import load_truth
from evaluation.images import TruthImageSet, hold_s, image_files, rates, run_image_set
from settings import ConfigError
from tests.conftest import ASSETS
from zones import ProblemClass

IMAGES = ASSETS / "images"
BINS = ASSETS / "datasets" / "bins-full-notfull"


def _truth(tmp_path: Path, image_set: str) -> Path:
    path = tmp_path / "truth.yaml"
    path.write_text(f"images:\n  - {image_set}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("image_set", "expected"), [
    ("{name: wet, class: standing_water, zone: {kind: road}, positives: [no-such-folder]}",
     "images[0]: Value error, positives: no such file or folder"),
    ("{name: wet, class: puddles, zone: {kind: road}, positives: [" + str(IMAGES / "bus.jpg") + "]}",
     "images[0].class: unknown class 'puddles'"),
    ("{name: wet, class: standing_water, zone: {kind: road}}", "needs positives, negatives or both"),
    ("{name: wet, class: standing_water, zone: {kind: road, polygon: [[0, 0], [1, 1]]}, negatives: ["
     + str(IMAGES / "bus.jpg") + "]}", "images[0].zone.polygon"),
    ("{name: 'a b', class: standing_water, zone: {kind: road}, negatives: [" + str(IMAGES / "bus.jpg") + "]}",
     "images[0].name"),
    ("{name: full, class: overflowing_bin, zone: {kind: bin_area}, teach: 5, positives: [" + str(BINS / "full")
     + "]}", "teach: a zone classifier learns from both kinds"),
])
def test_a_bad_image_set_is_refused_naming_its_field(tmp_path: Path, image_set: str, expected: str):
    with pytest.raises(ConfigError) as refused:
        load_truth(_truth(tmp_path, image_set))
    assert expected.removeprefix("images[0]: Value error, ") in str(refused.value) and "images[0]" in str(refused.value)


def test_relative_paths_are_read_from_the_truth_files_folder_and_limits_draw_the_same_images(tmp_path: Path):
    (tmp_path / "photos").mkdir()
    for name in ("b.jpg", "a.png", "notes.txt"):
        (tmp_path / "photos" / name).write_bytes(b"")
    truth = load_truth(_truth(tmp_path, "{name: s, class: exposed_garbage, zone: {kind: road}, positives: [photos]}"))
    image_set = truth.images[0]
    assert [p.name for p in image_files(image_set.positives)] == ["a.png", "b.jpg"]  # images only, by name
    assert image_set.zone.classes == [ProblemClass.EXPOSED_GARBAGE]  # the zone watches the set's class only
    limited = TruthImageSet.model_validate({"name": "bins", "class": "overflowing_bin", "zone": {"kind": "bin_area"},
                                            "positives": [str(BINS / "full")], "limit": 5})
    assert limited.drawn("positives") == limited.drawn("positives") and len(limited.drawn("positives")) == 5


def test_rates_are_undefined_without_their_denominator():
    assert rates({"tp": 3, "fn": 1, "fp": 1, "tn": 5}) == {"precision": 0.75, "recall": 0.75, "f1": 0.75}
    assert rates({"tp": 0, "fn": 0, "fp": 0, "tn": 4}) == {"precision": None, "recall": None, "f1": None}


def test_a_still_camera_on_a_flood_raises_water_and_on_a_dry_street_does_not(detector):  # type: ignore[no-untyped-def]
    truth = load_truth(Path(__file__).resolve().parents[1] / "data" / "truth-scene.yaml")
    config = truth.worker_config()
    flood = next(s for s in truth.images if s.name == "flooded-street")
    dry = next(s for s in truth.images if s.name == "bus-street")
    assert hold_s(config, flood.zone, flood.problem, flood.analysis_fps) == pytest.approx(3 * 0.6 + 4.0)
    raised = run_image_set(flood, config, detector)
    assert raised.counts() == {"tp": 1, "fn": 0, "fp": 0, "tn": 0, "unreadable": 0}
    assert "积水 water" in raised.results[0].reasons[0]  # why, in the dispatcher's words
    quiet = run_image_set(dry, config, detector)
    assert quiet.counts() == {"tp": 0, "fn": 0, "fp": 0, "tn": 1, "unreadable": 0}


def test_taught_images_teach_the_zones_head_and_are_never_scored(detector):  # type: ignore[no-untyped-def]
    truth = load_truth(Path(__file__).resolve().parents[1] / "data" / "truth-scene.yaml")
    bins = next(s for s in truth.images if s.name == "bins").model_copy(update={"teach": 10, "limit": 6})
    for kind in ("positives", "negatives"):
        taught, scored = set(bins.taught(kind)), set(bins.drawn(kind))
        assert len(taught) == 10 and len(scored) == 6 and not taught & scored
        assert bins.taught(kind) == sorted(taught)  # the same draw every run
    run = run_image_set(bins, truth.worker_config(), detector)
    assert run.taught == 20
    counts = run.counts()
    assert counts["tp"] + counts["tn"] >= 9, counts  # 10 labels of each kind already tell full from not full
    raised = [r for r in run.results if r.raised]
    assert raised and all(any(x.startswith("分类器 classifier: overflowing_bin") for x in r.reasons) for r in raised)
