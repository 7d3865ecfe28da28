"""The API process never decodes video or runs a model: building the app loads neither PyAV, OpenCV nor
Ultralytics (each is tens of megabytes of native code and seconds of start-up on every replica)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("av", "cv2", "ultralytics")

BUILD_THE_APP = """
import json, sys, tempfile
from api.app import create_app
from api.config import ApiConfig
from bus import BusConfig
from detector import DetectorConfig
from zones.scene_config import SceneReadingConfig

with tempfile.TemporaryDirectory() as media:
    app = create_app(ApiConfig(database_url=f"sqlite:///{media}/cases.db"), BusConfig(redis_url=sys.argv[1]), media,
                     detector=DetectorConfig(), scene=SceneReadingConfig())
    assert "/api/classes" in app.openapi()["paths"]
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in sys.argv[2:])))
"""


@pytest.fixture(scope="module")
def loaded_by_the_app() -> list[str]:
    """The heavy modules a fresh interpreter holds once it has built the API app as `streetwatch api` does."""
    from tests.conftest import REDIS_URL

    root = Path(__file__).resolve().parents[2]
    found = subprocess.run([sys.executable, "-c", BUILD_THE_APP, REDIS_URL, *HEAVY], cwd=root, capture_output=True,
                           text=True, timeout=120)
    assert found.returncode == 0, found.stderr[-3000:]
    return json.loads(found.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("package", [
    "av",
    "cv2",
    "ultralytics",
])
def test_building_the_api_app_loads_no_decoder_and_no_model(loaded_by_the_app: list[str], package: str):
    assert [m for m in loaded_by_the_app if m.split(".")[0] == package] == []
