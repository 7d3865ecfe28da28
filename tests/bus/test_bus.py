"""The worker's side of the bus against a real Redis process that the tests take down, freeze and restart."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bus import BusConfig, BusFull, DiskSpool, EventPublisher, SpoolingPublisher
from tests.helpers import make_event, wait_until
from tests.procs import RedisProcess
from zones import Event, EventState


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path / "redis").start()
    yield server
    server.stop()


def _bus(server: RedisProcess, **settings: object) -> BusConfig:
    return BusConfig(redis_url=server.url, stream=f"test:{uuid.uuid4().hex}", **settings)


def _stored(bus: BusConfig) -> list[Event]:
    return [Event.model_validate_json(f[b"event"]) for _i, f in redis.Redis.from_url(bus.redis_url).xrange(bus.stream)]


def _events(n: int, start: int = 0) -> list[Event]:
    return [make_event("cam-a", "gate", "illegal_parking_motor", float(t)) for t in range(start, start + n)]


def test_events_wait_in_the_spool_while_redis_is_down_and_arrive_in_order_after(own_redis, tmp_path: Path):
    bus = _bus(own_redis)
    sink = SpoolingPublisher(EventPublisher(bus), DiskSpool(tmp_path / "spool.sqlite"), retry_s=0.1)
    sink(_events(3))
    wait_until(lambda: sink.sent == 3, what="the first events")
    own_redis.kill()  # SIGKILL: Redis is gone
    started = time.monotonic()
    sink(_events(4, start=3))
    sink(_events(2, start=7))
    assert time.monotonic() - started < 0.1  # handing over never waits for Redis
    wait_until(lambda: len(sink.spool) == 6, what="the events to reach the spool")
    own_redis.start()  # back, empty (no persistence)
    wait_until(lambda: len(sink.spool) == 0, what="the spool to drain by itself")
    assert [e.start_s for e in _stored(bus)] == [3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    assert sink.close() == 0


def test_a_frozen_redis_does_not_block_the_caller_and_the_spool_survives_a_restart(own_redis, tmp_path: Path):
    bus = _bus(own_redis)
    spool_path = tmp_path / "spool.sqlite"
    sink = SpoolingPublisher(EventPublisher(bus), DiskSpool(spool_path), retry_s=0.1)
    own_redis.freeze()  # SIGSTOP: accepts connections, never answers
    started = time.monotonic()
    for batch in range(5):
        sink(_events(2, start=2 * batch))
    assert time.monotonic() - started < 0.1
    assert sink.close(timeout_s=3) == 10  # SIGTERM-like stop: what could not be sent is on disk
    own_redis.thaw()
    again = SpoolingPublisher(EventPublisher(bus), DiskSpool(spool_path), retry_s=0.1)  # the worker restarts
    wait_until(lambda: len(again.spool) == 0, what="the spool of the last run to drain")
    assert [e.start_s for e in _stored(bus)] == [float(t) for t in range(10)]
    again.close()


def test_a_full_spool_drops_updates_before_any_start_or_end(tmp_path: Path):
    """The newest update says all the older ones did (the episode is still there, since when, how sure)."""
    spool = DiskSpool(tmp_path / "spool.sqlite", max_events=4)
    start, end = _events(1)[0], _events(1)[0].model_copy(update={"state": EventState.END, "ts_s": 9.0, "end_s": 8.0})
    updates = [start.model_copy(update={"state": EventState.UPDATE, "ts_s": float(t)}) for t in range(1, 6)]
    spool.append([start, *updates[:3]])
    spool.append([end])  # full: the oldest update makes room
    spool.append(updates[3:])  # full again: older updates give way to newer ones, never a start or an end
    kept = [(e.state, e.ts_s) for _i, e in spool.peek(10)]
    assert kept == [(EventState.START, 0.0), (EventState.END, 9.0), (EventState.UPDATE, 4.0), (EventState.UPDATE, 5.0)]
    stats = spool.stats()
    assert stats.size == 4 and stats.kept == 0 and stats.dropped_updates == 3 and stats.dropped_critical == 0
    assert stats.oldest_age_s is not None and stats.oldest_age_s >= 0


def test_a_stream_at_its_bound_pushes_back_instead_of_trimming_unread_events(own_redis, tmp_path: Path):
    bus = _bus(own_redis, max_len=5)
    EventPublisher(bus).publish(_events(5))
    with pytest.raises(BusFull):
        EventPublisher(bus).publish(_events(1, start=5))
    sink = SpoolingPublisher(EventPublisher(bus), DiskSpool(tmp_path / "spool.sqlite"), retry_s=0.1)
    sink(_events(3, start=5))
    wait_until(lambda: len(sink.spool) == 3, what="the push-back into the spool")
    assert len(_stored(bus)) == 5  # nothing unread was trimmed
    redis.Redis.from_url(bus.redis_url).delete(bus.stream)  # the API has handled and trimmed everything
    wait_until(lambda: len(sink.spool) == 0, what="the spool once the stream has room")
    assert [e.start_s for e in _stored(bus)] == [5.0, 6.0, 7.0]
    sink.close()


def test_sent_events_are_kept_a_while_and_sent_again_when_redis_lost_them(own_redis, tmp_path: Path):
    bus = _bus(own_redis)
    sink = SpoolingPublisher(EventPublisher(bus), DiskSpool(tmp_path / "spool.sqlite", max_events=100), retry_s=0.1)
    sink(_events(5))
    assert sink.flush()
    assert sink.spool.stats().kept == 5 and len(sink.spool) == 0
    own_redis.kill()
    own_redis.start()  # back without its data: the five are gone from Redis
    assert _stored(bus) == []
    assert sink.resend() == 5
    assert sink.flush()
    assert [e.start_s for e in _stored(bus)] == [0.0, 1.0, 2.0, 3.0, 4.0]
    full = DiskSpool(tmp_path / "small.sqlite", max_events=3)
    full.append(_events(3))
    full.mark_sent(10)
    full.append(_events(2, start=3))  # sent events make room before anything unsent is dropped
    assert len(full) == 2 and full.stats().kept == 1 and full.stats().dropped_updates == 0
    sink.close()
