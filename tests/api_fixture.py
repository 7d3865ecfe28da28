"""A real API (real Redis, SQLite or PostgreSQL) with one logged-in user per role, for any test folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import ApiConfig
from bus import BusConfig, EventPublisher
from tests.helpers import wait_until
from tests.servers import serving
from zones import Event

ROLES = ("viewer", "dispatcher", "operator", "admin")


def password_for(role: str) -> str:
    return f"{role}-password-2026"


@dataclass
class Api:
    client: TestClient | httpx.Client  # in-process, or over loopback HTTP when served
    app: FastAPI
    bus: BusConfig
    tokens: dict[str, str] = field(default_factory=dict)
    base_url: str | None = None  # set when the app runs in a real server

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def get(self, path: str, role: str = "viewer", **kwargs: Any) -> Any:
        return self.client.get(path, headers=self.auth(role), **kwargs)

    def move(self, case_id: int, to: str, role: str = "dispatcher", **body: Any) -> Any:
        return self.client.post(f"/api/cases/{case_id}/transitions", json={"to": to, **body}, headers=self.auth(role))

    def publish_and_wait(self, events: list[Event]) -> None:
        consumer = self.app.state.consumer.consumer
        target = consumer.handled + consumer.dead_lettered + len(events)
        EventPublisher(self.bus).publish(events)
        wait_until(lambda: consumer.handled + consumer.dead_lettered >= target, what="the consumer")

    def cases(self, **params: Any) -> list[dict[str, Any]]:
        return self.get("/api/cases", params={"page_size": 200, **params}).json()["items"]


MakeApi = Callable[..., Api]


def open_api(stack: ExitStack, folder: Path, bus: BusConfig, database_url: str | None = None, serve: bool = False,
             **settings: Any) -> Api:
    """A started app with a logged-in user per role, closed with `stack`; `serve=True` runs it in a real uvicorn
    server on loopback (for streaming, browsers and fuzzing)."""
    url = database_url or f"sqlite:///{folder / 'cases.db'}"
    cameras = settings.pop("cameras", ())
    clock = settings.pop("clock", None)
    config = ApiConfig(database_url=url, **settings)
    app = create_app(config, bus, folder / "media", cameras=cameras, **({"clock": clock} if clock else {}))
    base_url = stack.enter_context(serving(app)) if serve else None
    client = stack.enter_context(httpx.Client(base_url=base_url, timeout=30) if base_url else TestClient(app))
    api = Api(client, app, bus, base_url=base_url)
    for role in ROLES:
        if app.state.users.get(role) is None:  # a second app on the same database keeps its accounts
            app.state.users.add(role, role, password_for(role))
        reply = client.post("/api/auth/token", data={"username": role, "password": password_for(role)})
        api.tokens[role] = reply.json()["access_token"]
    client.cookies.clear()  # every request in a test says who it is
    return api


@pytest.fixture
def make_api(tmp_path: Path, redis_bus: BusConfig) -> Iterator[MakeApi]:
    """`make_api(database_url=None, serve=False, **ApiConfig fields)`: see `open_api`; closed after the test."""
    with ExitStack() as stack:
        yield lambda database_url=None, serve=False, **settings: open_api(
            stack, tmp_path, redis_bus, database_url, serve, **settings)


@pytest.fixture
def api(make_api: MakeApi) -> Api:
    return make_api()
