"""PostgreSQL stopped, then frozen (SIGSTOP), each for longer than the stream can hold: the API answers 503
(never 500, never a hang), the workers hold the rest in their spools, and afterwards everything is stored once."""

from __future__ import annotations

import time

import httpx

from bus import DiskSpool, EventPublisher, SpoolingPublisher
from tests.faults.conftest import bus_on, episodes, record, tally, wait_for_all
from tests.helpers import wait_until

MAX_LEN = 500  # what the stream may hold unhandled: far less than an outage's backlog


def _timed_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, float]:
    started = time.monotonic()
    reply = httpx.get(url, headers=headers, timeout=30)
    return reply.status_code, time.monotonic() - started


def test_postgres_stopped_then_frozen_gives_503s_and_loses_nothing(pg, redis_plain, api_process, tmp_path):  # type: ignore
    bus = bus_on(redis_plain, max_len=MAX_LEN)
    api = api_process(pg.url, bus, request_timeout_s=4, statement_timeout_s=2)
    admin = api.admin()
    sink = SpoolingPublisher(EventPublisher(bus), DiskSpool(tmp_path / "spool.sqlite"), retry_s=0.2)
    sent = episodes(2000, "pg")
    codes: list[int] = []

    pg.stop()
    for at in range(0, 2000, 50):
        sink(sent[at:at + 50])
    wait_until(lambda: len(sink.spool) >= 2000 - MAX_LEN, timeout_s=60, what="the push-back into the spool")
    for path in ("/api/cases", "/api/cases/1", "/api/stats", "/api/health"):
        status, took = _timed_get(f"{api.url}{path}", admin)
        codes.append(status)
        assert status == 503 and took < 10, (path, status, took)
    assert _timed_get(f"{api.url}/api/health/live")[0] == 200
    pg.start()
    first_half = wait_for_all(pg.url, sent[:2000])
    assert first_half.exact(), first_half

    pg.freeze()  # accepts connections, never answers
    for at in range(2000, 4000, 50):
        sink(sent[at:at + 50])
    for path in ("/api/cases", "/api/health", "/api/health/ready"):
        status, took = _timed_get(f"{api.url}{path}", admin)
        codes.append(status)
        assert status == 503 and took < 10, (path, status, took)
    status, took = _timed_get(f"{api.url}/api/health/live")
    assert status == 200 and took < 1
    time.sleep(5)  # longer than the stream can hold at this pace
    pg.thaw()
    counted = wait_for_all(pg.url, sent)
    record("postgres stopped, then frozen", counted, http_5xx=sum(c >= 500 for c in codes),
           http_500=sum(c == 500 for c in codes), max_len=MAX_LEN)
    assert counted.exact(), counted
    assert 500 not in codes
    wait_until(lambda: httpx.get(f"{api.url}/api/health", headers=admin, timeout=30).status_code == 200,
               timeout_s=60, what="health to recover")
    assert tally(pg.url, sent).doubled == 0
    sink.close()
