"""One replay of the residential clip, shared by the end-to-end tests that only read its events."""

from __future__ import annotations

from pathlib import Path

import pytest

from bus import SnapshotStore
from settings import load_config
from worker import CameraRun, replay

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def residential_media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def residential_run(detector, residential_media: Path) -> CameraRun:  # type: ignore[no-untyped-def]
    config = load_config(DATA / "residential.yaml")
    return replay(config, config.cameras[0], lambda _events: None, SnapshotStore(residential_media), detector)
