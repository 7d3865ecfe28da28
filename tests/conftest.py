"""Shared fixtures: real assets, the real model, real Redis and PostgreSQL."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from models import DEFAULT_ASSETS_DIR
from tests.api_fixture import api, make_api  # noqa: F401  (a real API with a user per role)
from tests.rtsp.fixture import rtsp_server  # noqa: F401  (a real RTSP server for the live-camera tests)

ASSETS = Path(os.environ.get("STREETWATCH_ASSETS", DEFAULT_ASSETS_DIR))
REDIS_URL = os.environ.get("STREETWATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_URL = os.environ.get("STREETWATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
RESIDENTIAL = ASSETS / "video" / "residential-street-parked-cars.mp4"
HIGHWAY = ASSETS / "video" / "highway-720p.mp4"


def pytest_configure(config: pytest.Config) -> None:
    if not (ASSETS / "weights").is_dir():
        raise pytest.UsageError(f"shared assets not found at {ASSETS}; set STREETWATCH_ASSETS")


@pytest.fixture(scope="session")
def detector():  # type: ignore[no-untyped-def]
    """The default shared model, loaded once for the whole run."""
    from detector import Detector, DetectorConfig

    return Detector(DetectorConfig())


@pytest.fixture
def redis_bus() -> Iterator:
    """A bus on a stream of its own in the real Redis, deleted afterwards."""
    from bus import BusConfig

    bus = BusConfig(redis_url=REDIS_URL, stream=f"test:{uuid.uuid4().hex}", claim_idle_ms=60_000)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not running at {REDIS_URL}: {exc}")
    yield bus
    client.delete(bus.stream, bus.dead_letter_stream)
    client.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh database in the real PostgreSQL server, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"streetwatch_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}")
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave without running native destructors: after a full run a runtime's worker thread (OpenVINO or TFLite)
    can abort the interpreter's shutdown ("terminate called without an active exception", exit 134) once every
    test has passed. The session's own exit status is kept."""
    if os.environ.get("STREETWATCH_HARD_EXIT", "1") == "1" and hasattr(config, "_streetwatch_status"):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(int(config._streetwatch_status))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config._streetwatch_status = exitstatus  # type: ignore[attr-defined]
