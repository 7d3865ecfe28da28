"""One replay of the residential clip, shared by the end-to-end tests that only read its events; a worker that
answers the API's camera checks through real Redis."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bus import BusConfig, EventPublisher, HealthPublisher, SnapshotStore, redis_client
from bus.control import ControlListener, publish_result
from settings import AppConfig, load_config
from worker import CameraRun, Worker, replay

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def residential_media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def residential_run(detector, residential_media: Path) -> CameraRun:  # type: ignore[no-untyped-def]
    config = load_config(DATA / "residential.yaml")
    return replay(config, config.cameras[0], lambda _events: None, SnapshotStore(residential_media), detector)


@contextmanager
def verifying_worker(settings: AppConfig, bus: BusConfig, detector, media: Path  # type: ignore[no-untyped-def]
                     ) -> Iterator[tuple[Worker, ControlListener]]:
    """A worker on `settings`' cameras publishing events, health and camera-check results to real Redis, with
    its control listener; stopped when the block ends."""
    control = redis_client(bus.redis_url)
    worker = Worker(settings, EventPublisher(bus).publish, SnapshotStore(media), detector,
                    health_sink=HealthPublisher(bus, worker_name="test-worker"),
                    verify_sink=lambda result: publish_result(control, bus, result))
    listener = ControlListener(bus, worker.submit_check, worker.stop_event, control)
    worker.start()
    listener.start()
    try:
        yield worker, listener
    finally:
        worker.stop()
        worker.join(30)
