"""The real service for benchmarks: `streetwatch api` in its own process, on a config written for the run.

Benchmarks of the API measure what a deployment runs (uvicorn, the consumer, the relay), not an
in-process test client; this starts one, makes it an account, and stops it.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from httpx_sse import aconnect_sse


@dataclass(frozen=True)
class RunningApi:
    base_url: str
    token: str
    username: str
    password: str
    redis_url: str
    stream: str
    config_path: Path
    media_dir: Path
    pid: int

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "cli.main", *args]


@contextmanager
def running_api(
    database_url: str | None = None,
    redis_url: str = "redis://127.0.0.1:6379/0",
    api_settings: dict[str, Any] | None = None,
    startup_timeout_s: float = 60.0,
    more: dict[str, Any] | None = None,
) -> Iterator[RunningApi]:
    """Start `streetwatch api` on a free port with its own stream names; yields once it answers. `more` adds
    top-level settings (cameras, rules) that a worker started on the same file will share."""
    with tempfile.TemporaryDirectory(prefix="streetwatch-bench-") as folder:
        root = Path(folder)
        port = _free_port()
        stream = f"bench:{uuid.uuid4().hex[:8]}:events"
        config = {
            "media_dir": str(root / "media"),
            "bus": {"redis_url": redis_url, "stream": stream},
            "api": {"database_url": database_url or f"sqlite:///{root / 'cases.db'}", "host": "127.0.0.1",
                    "port": port, **(api_settings or {})},
            **(more or {}),
        }
        config_path = root / "bench.yaml"
        config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        # A name of its own each run: a database kept between runs (bench cases) already has the last one.
        username, password = f"bench-{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(16)
        made = subprocess.run(_command("users", "add", username, "--role", "admin", "--password-stdin", "-c",
                                       str(config_path)), input=password + "\n", text=True, check=False,
                              capture_output=True)
        if made.returncode != 0:
            raise RuntimeError(f"making the benchmark's account failed: {made.stderr.strip()[-500:]}")
        log = (root / "api.log").open("w")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(_command("api", "-c", str(config_path)), stdout=log, stderr=subprocess.STDOUT,
                                   env=env)
        base_url = f"http://127.0.0.1:{port}"
        try:
            token = _wait_and_login(base_url, username, password, process, startup_timeout_s, root / "api.log")
            yield RunningApi(base_url, token, username, password, redis_url, stream, config_path, root / "media",
                             process.pid)
        finally:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()
            _forget_streams(redis_url, stream)


def _forget_streams(redis_url: str, stream: str) -> None:
    """The run's streams and keys (live feed, control, login counts) leave Redis with it."""
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{stream}*"))
    if keys:
        client.delete(*keys)
    client.close()


def _wait_and_login(base_url: str, username: str, password: str, process: subprocess.Popen[bytes],
                    timeout_s: float, log_path: Path) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API exited: {log_path.read_text()[-2000:]}")
        try:
            reply = httpx.post(f"{base_url}/api/auth/token", data={"username": username, "password": password},
                               timeout=2)
            if reply.status_code == 200:
                return str(reply.json()["access_token"])
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the API did not answer within {timeout_s:.0f} s")


async def live_changes(api: RunningApi, on_hello: Callable[[], None]) -> AsyncIterator[tuple[float, dict[str, Any]]]:
    """A dashboard's live feed: each change as (arrival on the wall clock, its message), after `on_hello` says the
    connection is open. The caller stops reading when it has what it came for."""
    async with httpx.AsyncClient(base_url=api.base_url, timeout=httpx.Timeout(10, read=None)) as client, \
            aconnect_sse(client, "GET", "/api/live", headers=api.auth()) as source:
        async for message in source.aiter_sse():
            if message.event == "hello":
                on_hello()
            elif message.event == "change" and message.data:
                yield time.time(), json.loads(message.data)
