"""GET /api/classes: the seven classes and what the configured models cover, without loading a model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from detector import DetectorConfig
from detector.scene import SceneConfig
from models import ModelManifest, save_manifest
from tests.api.test_auth import app_routes
from tests.api_fixture import MakeApi
from tests.conftest import ASSETS
from worker.zone_readings import SceneReadingConfig

COCO_640 = str(ASSETS / "weights" / "yolov8n-coco-int8-640.onnx")
Classes = Callable[[DetectorConfig | None], dict]


@pytest.fixture
def classes_for(make_api: MakeApi) -> Classes:
    """GET /api/classes of an app whose worker configuration has these models (None: the app's default)."""

    def report(detector: DetectorConfig | None) -> dict:
        api = make_api(consume=False)
        if detector is not None:
            api.app.state.detector_config = detector
        return api.get("/api/classes").json()

    return report


def test_default_model_coverage(classes_for: Classes):
    report = classes_for(DetectorConfig(model=COCO_640))
    coverage = {c["id"]: c["coverage"] for c in report["classes"]}
    assert len(coverage) == 7 and coverage["illegal_parking_motor"] == "full"
    assert coverage["street_vending"] == "partial" and coverage["standing_water"] == "none"
    assert report["uncovered"] == ["standing_water", "exposed_garbage", "overflowing_bin"]
    motor = next(c for c in report["classes"] if c["id"] == "illegal_parking_motor")
    assert motor["name_zh"] == "机动车乱停放" and motor["department_en"] == "traffic police"
    assert motor["rule"] == "stationary_track" and motor["sources"][0]["primary"] == ["bus", "car", "truck"]


def test_custom_model_covers_standing_water(classes_for: Classes, tmp_path: Path):
    """The manifest names the shared COCO file but declares a city model's labels: coverage comes from it."""
    manifest = save_manifest(ModelManifest(name="city-urban", file=COCO_640, format="onnx",
                                           labels=["puddle", "overflowing_bin"]), tmp_path / "city.manifest.yaml")
    config = DetectorConfig(models=[{"path": COCO_640}, {"manifest": str(manifest)}])
    report = classes_for(config)
    water = next(c for c in report["classes"] if c["id"] == "standing_water")
    assert water["coverage"] == "full" and water["sources"] == [
        {"model": "city-urban", "primary": ["puddle"], "proxy": []}]
    assert report["uncovered"] == ["exposed_garbage"]
    assert [m["name"] for m in report["models"]] == ["yolov8n-coco-int8-640", "city-urban"]


def test_create_app_serves_the_route_and_lists_it(make_api: MakeApi):
    api = make_api(consume=False)
    assert ("GET", "/api/classes") in set(app_routes(api.app))
    schema = api.client.get("/openapi.json").json()
    assert schema["paths"]["/api/classes"]["get"]["tags"] == ["classes 问题类别"]


@pytest.mark.parametrize(("variant", "seen"), [
    ("ade20k150", {"standing_water", "street_vending", "outside_store_business", "exposed_garbage", "overflowing_bin"}),
    # The 32-class segmenter has tables and shelves but no awnings, bags or ashcans.
    ("ade20k32-int8", {"standing_water", "street_vending", "outside_store_business"}),
])
def test_the_segmenter_covers_the_surfaces_and_states_coco_cannot_see(make_api: MakeApi, variant: str, seen: set):
    api = make_api(consume=False)
    api.app.state.scene_config = SceneReadingConfig(segmenter=SceneConfig(variant=variant))
    report = api.get("/api/classes").json()
    segmented = {c["id"] for c in report["classes"] for z in c["zone_level"] if z["kind"] == "segmenter"}
    assert segmented == seen
    water = next(c for c in report["classes"] if c["id"] == "standing_water")
    assert water["coverage"] == "partial" and f"ADE20K {variant}: water" in water["zone_level"][0]["detail"]
    assert "flooded-street.jpg" in water["zone_level"][0]["measured"]  # what was measured, and on what
    assert set(report["uncovered"]) == {"standing_water", "exposed_garbage", "overflowing_bin"} - seen
