"""GET /api/classes: the seven classes and what the configured models cover, without loading a model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import ApiConfig
from api.routers import classes
from detector import DetectorConfig
from events import BusConfig
from models import ModelManifest, save_manifest
from tests.conftest import ASSETS

COCO_640 = str(ASSETS / "weights" / "yolov8n-coco-int8-640.onnx")
MakeClient = Callable[[DetectorConfig | None], TestClient]


@pytest.fixture
def make_client(tmp_path: Path, redis_bus: BusConfig) -> Iterator[MakeClient]:
    """An API app whose worker configuration has these models (None: the app's own default)."""
    with ExitStack() as stack:

        def make(detector: DetectorConfig | None) -> TestClient:
            api = ApiConfig(database_url=f"sqlite:///{tmp_path / 'cases.db'}", consume=False)
            app = create_app(api, redis_bus, tmp_path / "media")
            if detector is not None:
                app.state.detector_config = detector
            if not any(getattr(route, "path", None) == "/api/classes" for route in app.routes):
                app.include_router(classes.router)  # until create_app registers it
            return stack.enter_context(TestClient(app))

        yield make


def test_default_model_coverage(make_client: MakeClient):
    report = make_client(DetectorConfig(model=COCO_640)).get("/api/classes").json()
    coverage = {c["id"]: c["coverage"] for c in report["classes"]}
    assert len(coverage) == 7 and coverage["illegal_parking_motor"] == "full"
    assert coverage["street_vending"] == "partial" and coverage["standing_water"] == "none"
    assert report["uncovered"] == ["standing_water", "exposed_garbage", "overflowing_bin"]
    motor = next(c for c in report["classes"] if c["id"] == "illegal_parking_motor")
    assert motor["name_zh"] == "机动车乱停放" and motor["department_en"] == "traffic police"
    assert motor["rule"] == "stationary_track" and motor["sources"][0]["primary"] == ["bus", "car", "truck"]


def test_custom_model_covers_standing_water(make_client: MakeClient, tmp_path: Path):
    """The manifest names the shared COCO file but declares a city model's labels: coverage comes from it."""
    manifest = save_manifest(ModelManifest(name="city-urban", file=COCO_640, format="onnx",
                                           labels=["puddle", "overflowing_bin"]), tmp_path / "city.manifest.yaml")
    config = DetectorConfig(models=[{"path": COCO_640}, {"manifest": str(manifest)}])
    report = make_client(config).get("/api/classes").json()
    water = next(c for c in report["classes"] if c["id"] == "standing_water")
    assert water["coverage"] == "full" and water["sources"] == [
        {"model": "city-urban", "primary": ["puddle"], "proxy": []}]
    assert report["uncovered"] == ["exposed_garbage"]
    assert [m["name"] for m in report["models"]] == ["yolov8n-coco-int8-640", "city-urban"]


def test_the_openapi_lists_the_route(make_client: MakeClient):
    schema = make_client(None).get("/openapi.json").json()
    assert schema["paths"]["/api/classes"]["get"]["tags"] == ["classes 问题类别"]
