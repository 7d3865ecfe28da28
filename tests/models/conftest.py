"""What the model tests share: the shipped OpenVINO folder, and a cache folder of each test's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ASSETS

OPENVINO_DIR = ASSETS / "weights" / "yolo11n-coco-int8-openvino"


@pytest.fixture
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The links models.loading makes (an OpenVINO folder under the name Ultralytics wants) go here, not ~/.cache."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("STREETWATCH_CACHE_DIR", str(cache))
    return cache
