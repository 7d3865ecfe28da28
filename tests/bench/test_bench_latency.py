"""`streetwatch bench latency`, small and real: events through the worker's publisher and real Redis into the real
API process on PostgreSQL, seen on the live feed. Structure and invariants only, never times."""

from __future__ import annotations

import itertools
from collections import defaultdict

import pytest
from sqlalchemy.engine import make_url

from bench.case_latency import measure_latency, render, schedule
from tests.conftest import POSTGRES_URL, REDIS_URL


def test_the_schedule_is_episodes_that_start_update_and_end_like_the_rules() -> None:
    planned = schedule(cameras=100, seconds=600, per_minute=1.0, update_every_s=20)
    assert [t for t, _ in planned] == sorted(t for t, _ in planned)
    episodes: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for t, event in planned:
        episodes[event.event_id].append((t, event.state))
    assert 900 <= len(episodes) <= 1100  # Poisson at 1 a camera-minute: 1000 expected
    assert len({e.camera_id for _, e in planned}) == 100 and len({e.zone_id for _, e in planned}) == len(episodes)
    for states in episodes.values():
        assert states[0][1] == "start" and all(s == "update" for _, s in states[1:-1])
        assert states[-1][1] in ("update", "end", "start")
        gaps = [b - a for (a, _), (b, s) in itertools.pairwise(states) if s == "update"]
        assert all(g == pytest.approx(20) for g in gaps)
    assert schedule(5, 60, 2.0, 20, seed=1)[0][0] == schedule(5, 60, 2.0, 20, seed=1)[0][0]


def test_every_start_becomes_a_case_on_the_live_feed() -> None:
    server = make_url(POSTGRES_URL).set(database="postgres").render_as_string(hide_password=False)
    report = measure_latency([10], seconds=8, per_minute=15, server_url=server, redis_url=REDIS_URL)
    (run,) = report.runs
    assert run.starts > 5 and run.seen == run.starts and run.lost == 0
    assert run.events_per_s > 0
    assert 0 <= run.commit_p50_ms <= run.visible_p50_ms <= run.visible_p99_ms <= run.visible_max_ms
    assert "| 10 |" in render(report)
