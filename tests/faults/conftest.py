"""Fault tests: the API, Redis and PostgreSQL as real processes of the test's own, killed, frozen and
restarted with real signals; thousands of events sent and every one looked for in the database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, text

from bus import BusConfig
from models.registry import PROJECT_ROOT
from tests.helpers import make_event, wait_until
from tests.procs import PostgresProcess, RedisProcess
from tests.servers import free_port
from zones import Event, EventState

REPORT = PROJECT_ROOT / "var" / "reliability" / "faults.jsonl"


@pytest.fixture
def pg() -> Iterator[PostgresProcess]:
    server = PostgresProcess().start()
    yield server
    server.remove()


@pytest.fixture
def redis_aof(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path / "redis", appendonly=True).start()
    yield server
    server.stop()


@pytest.fixture
def redis_plain(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path / "redis", appendonly=False).start()
    yield server
    server.stop()


def episodes(count: int, tag: str) -> list[Event]:
    """`count` problem episodes at as many places, a start and an end each: thousands of real-looking events."""
    events = []
    for i in range(count):
        start = make_event(f"{tag}-cam-{i % 20}", f"zone-{i}", "illegal_parking_motor", float(i), track=i,
                           zone_kind="no_parking", priority="normal")
        events += [start, start.model_copy(update={"state": EventState.END, "ts_s": i + 30.0, "end_s": i + 25.0})]
    return events


@dataclass
class ApiProcess:
    """`streetwatch api` in its own process, on its own config; killed and restarted by the test."""

    folder: Path
    database_url: str
    bus: BusConfig
    settings: dict[str, Any] = field(default_factory=dict)
    name: str = "api"
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.port = free_port()
        self.config = self.folder / f"{self.name}.yaml"
        self.log = self.folder / f"{self.name}.log"
        document = {
            "media_dir": str(self.folder / "media"),
            "bus": self.bus.model_dump(),
            "api": {"database_url": self.database_url, "host": "127.0.0.1", "port": self.port,
                    "verification": {"enabled": False}, **self.settings},
        }
        self.config.write_text(yaml.safe_dump(document), encoding="utf-8")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ApiProcess:
        with self.log.open("a") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "cli.main", "api", "-c", str(self.config)],
                                            stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        wait_until(self._alive, timeout_s=60, what=f"{self.name} to answer")
        return self

    def _alive(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited: {self.log.read_text()[-3000:]}")
        try:
            return httpx.get(f"{self.url}/api/health/live", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(30)

    def get(self, path: str, timeout: float = 30, **kwargs: Any) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", timeout=timeout, **kwargs)

    def admin(self) -> dict[str, str]:
        """Headers of an admin of this API (made through `streetwatch users add`, as an operator would)."""
        password = uuid.uuid4().hex
        subprocess.run([sys.executable, "-m", "cli.main", "users", "add", "fault-admin", "--role", "admin",
                        "--password-stdin", "-c", str(self.config)], input=password + "\n", text=True,
                       cwd=PROJECT_ROOT, check=True, capture_output=True)
        token = httpx.post(f"{self.url}/api/auth/token", data={"username": "fault-admin", "password": password},
                           timeout=30).json()["access_token"]
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api_process(tmp_path: Path) -> Iterator[Any]:
    started: list[ApiProcess] = []

    def make(database_url: str, bus: BusConfig, name: str = "api", **settings: Any) -> ApiProcess:
        api = ApiProcess(tmp_path, database_url, bus, settings, name).start()
        started.append(api)
        return api

    yield make
    for api in started:
        api.kill(signal.SIGTERM)


def bus_on(server: RedisProcess, **settings: Any) -> BusConfig:
    return BusConfig(redis_url=server.url, stream=f"faults:{uuid.uuid4().hex[:8]}", **settings)


@dataclass
class Tally:
    sent: int
    stored: int
    lost: int
    doubled: int
    episodes_sent: int
    cases: int

    def exact(self) -> bool:
        return self.lost == 0 and self.doubled == 0 and self.stored == self.sent and self.cases == self.episodes_sent


def tally(database_url: str, sent: list[Event]) -> Tally:
    """Every sent event looked for in the database: stored once, lost, or stored twice."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT event_id, state, ts_s, COUNT(*) FROM case_events "
                                           "GROUP BY event_id, state, ts_s")).all()
            cases = connection.execute(text("SELECT COUNT(*) FROM cases")).scalar_one()
            episodes_bound = connection.execute(text("SELECT COUNT(*) FROM case_episodes")).scalar_one()
    finally:
        engine.dispose()
    stored = {(r[0], r[1], round(float(r[2]), 3)): int(r[3]) for r in rows}
    wanted = {(e.event_id, e.state.value, round(e.ts_s, 3)) for e in sent}
    episodes_sent = len({e.event_id for e in sent})
    assert episodes_bound == cases or cases <= episodes_bound  # no case without its episode
    return Tally(sent=len(wanted), stored=len(wanted & stored.keys()), lost=len(wanted - stored.keys()),
                 doubled=sum(n - 1 for n in stored.values() if n > 1), episodes_sent=episodes_sent, cases=cases)


def wait_for_all(database_url: str, sent: list[Event], timeout_s: float = 180) -> Tally:
    deadline = time.monotonic() + timeout_s
    while True:
        counted = tally(database_url, sent)
        if counted.stored == counted.sent or time.monotonic() > deadline:
            return counted
        time.sleep(0.5)


def spooled(path: Path) -> int:
    """Events waiting in a spool file another process writes (SQLite lets a reader in beside it)."""
    from bus import DiskSpool

    spool = DiskSpool(path)
    try:
        return len(spool)
    finally:
        spool.close()


def record(test: str, counted: Tally, **extra: Any) -> None:
    """The figures of a fault run, for docs/reliability.md (var/reliability/faults.jsonl)."""
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    line = {"test": test, **counted.__dict__, **extra, "at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    with REPORT.open("a", encoding="utf-8") as out:
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
