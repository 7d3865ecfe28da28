"""The real `streetwatch replay --publish` with Redis gone: its --out file is written all the same, the events
wait in its spool and it says so (exit 75); the next run with Redis back sends them, and no case is doubled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from models.registry import PROJECT_ROOT
from tests.conftest import RESIDENTIAL
from tests.e2e.conftest import DATA
from tests.faults.conftest import bus_on, record, spooled, wait_for_all
from zones import Event


def _replay(config: Path, out: Path, redis_url: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "cli.main", "replay", str(RESIDENTIAL), "-c", str(config), "--out", str(out),
               "--publish"]
    return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "REDIS_URL": redis_url})


def test_replay_publish_keeps_its_events_while_redis_is_down_and_sends_them_next_time(
    pg, redis_plain, api_process, tmp_path
):  # type: ignore[no-untyped-def]
    bus = bus_on(redis_plain)
    settings = yaml.safe_load((DATA / "residential.yaml").read_text())
    settings["bus"] = {"stream": bus.stream, "spool_dir": str(tmp_path / "spool")}
    settings["media_dir"] = str(tmp_path / "media")
    config = tmp_path / "replay.yaml"
    config.write_text(yaml.safe_dump(settings))
    api_process(pg.url, bus)

    redis_plain.kill()
    first = _replay(config, tmp_path / "first.jsonl", bus.redis_url)
    assert first.returncode == 75, first.stderr[-2000:]
    assert "wait in" in first.stderr
    events = [Event.model_validate(json.loads(line)) for line in (tmp_path / "first.jsonl").read_text().splitlines()]
    assert len(events) >= 10 and spooled(tmp_path / "spool" / "replay.sqlite") == len(events)

    redis_plain.start()
    second = _replay(config, tmp_path / "second.jsonl", bus.redis_url)
    assert second.returncode == 0, second.stderr[-2000:]
    assert spooled(tmp_path / "spool" / "replay.sqlite") == 0
    counted = wait_for_all(pg.url, events)
    record("replay --publish with Redis down, then up", counted)
    assert counted.lost == 0 and counted.doubled == 0 and counted.stored == counted.sent
    assert counted.cases == 1  # the three parked cars' episodes: one place, one class, one case
