"""The dashboard under test: the real API (uvicorn on a free loopback port, real Redis, SQLite) and Debian's
headless Chromium driven by Playwright."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi import FastAPI

from api.app import create_app
from api.config import ApiConfig, MapConfig, MapLayer
from api.services.lifecycle import Role
from bus import BusConfig, EventPublisher, HealthPublisher, SnapshotStore
from models.registry import PROJECT_ROOT
from tests.conftest import RESIDENTIAL
from tests.helpers import make_event, wait_until
from tests.servers import serving
from worker.config import CameraConfig
from zones import Event

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
GEOJSON = PROJECT_ROOT / "config" / "map" / "street-office.geojson"
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"
# Cameras on the demo street office's map: a school gate, a hospital entrance, and one no worker reports.
CAMERAS = [
    CameraConfig(id="cam-school", name="实验小学门口 School gate", location=(116.3976, 39.9304),
                 source={"url": "rtsp://127.0.0.1:8554/school"}),
    CameraConfig(id="cam-hospital", name="社区医院入口 Hospital entrance", location=(116.4015, 39.9290),
                 source={"url": "rtsp://127.0.0.1:8554/hospital"}),
    CameraConfig(id="cam-quiet", name="北街 North street", location=(116.3990, 39.9322),
                 source={"url": "rtsp://127.0.0.1:8554/quiet"}),
]


def _frame() -> np.ndarray:
    """A real picture for the evidence: a frame of the residential clip (a drawn one if the clip is absent)."""
    capture = cv2.VideoCapture(str(RESIDENTIAL))
    ok, frame = capture.read()
    capture.release()
    if ok:
        return cv2.resize(frame, (640, 360))
    picture = np.full((360, 640, 3), 60, dtype=np.uint8)
    cv2.rectangle(picture, (200, 150), (420, 260), (40, 40, 200), -1)
    return picture


@dataclass
class Dashboard:
    """The running API, with what a test needs to feed it and log into it."""

    url: str
    app: FastAPI
    bus: BusConfig
    media_dir: Path
    accounts: dict[str, str] = field(default_factory=dict)
    _picture: np.ndarray | None = None

    def account(self, role: Role) -> tuple[str, str]:
        """A fresh user with `role`; returns its name and password."""
        name = f"{role.value}-{secrets.token_hex(3)}"
        password = secrets.token_urlsafe(16)
        self.app.state.users.add(name, role, password, display_name=f"测试 {role.value}")
        self.accounts[name] = password
        return name, password

    def event(self, camera: str = "cam-school", zone: str = "gate", problem: str = "illegal_parking_motor",
              start: float = 100.0, **extra: Any) -> Event:
        """An event as a worker would publish it, with a real JPEG saved as its evidence."""
        extra.setdefault("zone_kind", "school")
        extra.setdefault("zone_name", "实验小学 校门 / school gate")
        extra.setdefault("grid", "grid-03")
        event = make_event(camera, zone, problem, start, **extra)
        if self._picture is None:
            self._picture = _frame()
        relative = SnapshotStore(self.media_dir).save(event, self._picture)
        return event.model_copy(update={"snapshot": relative})

    def publish(self, *events: Event) -> None:
        EventPublisher(self.bus).publish(list(events))

    def publish_and_wait(self, *events: Event) -> None:
        """Publish and wait until the consumer has made the cases (for tests that log in afterwards)."""
        consumer = self.app.state.consumer.consumer
        target = consumer.handled + consumer.dead_lettered + len(events)
        self.publish(*events)
        wait_until(lambda: consumer.handled + consumer.dead_lettered >= target, timeout_s=10, what="the consumer")

    def report_cameras(self, reports: list[dict[str, Any]]) -> None:
        """Camera health as a worker reports it to Redis."""
        HealthPublisher(self.bus, worker_name="test-worker")(reports)

    def snapshot(self, camera_id: str) -> str:
        if self._picture is None:
            self._picture = _frame()
        return SnapshotStore(self.media_dir).save_snapshot(camera_id, self._picture)


@contextmanager
def serve_dashboard(tmp_path: Path, redis_bus: BusConfig, cameras: list[CameraConfig]) -> Iterator[Dashboard]:
    """The real API on a free port with these cameras, serving the dashboard from web/ (built by ./dev.sh)."""
    if not (PROJECT_ROOT / "web" / "vendor").is_dir():
        pytest.fail("web/vendor is missing: build the dashboard first (./dev.sh test does it; or "
                    "`cd web && npm ci && node build.mjs`)")
    media = tmp_path / "media"
    config = ApiConfig(
        database_url=f"sqlite:///{tmp_path / 'cases.db'}",
        map=MapConfig(layers=[MapLayer(name="网格与重点区域 grids and key areas", file=str(GEOJSON), kind="grid")]),
    )
    app = create_app(config, redis_bus, media, cameras=cameras)
    with serving(app) as url:
        yield Dashboard(url=url, app=app, bus=redis_bus, media_dir=media)


@pytest.fixture
def dashboard(tmp_path: Path, redis_bus: BusConfig) -> Iterator[Dashboard]:
    """The real API with the demo street office's cameras."""
    with serve_dashboard(tmp_path, redis_bus, CAMERAS) as served:
        yield served


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: apt-get install chromium (./dev.sh test does it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@dataclass
class Watched:
    """A page with what it asked for and what it complained about."""

    page: Any
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def page(browser: Any, dashboard: Dashboard) -> Iterator[Watched]:
    """A fresh browser context (cold cache, no cookies) on a wall-screen-sized window, in Chinese."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    context.set_default_timeout(10_000)
    watched = Watched(context.new_page())
    watched.page.on("request", lambda request: watched.requests.append(request.url))
    watched.page.on("console", lambda message: watched.errors.append(message.text) if message.type == "error" else None)
    watched.page.on("pageerror", lambda error: watched.errors.append(f"page error: {error}"))
    try:
        yield watched
    finally:
        context.close()  # before the API stops: the live feed's connection closes with it

