"""The worker's side of the bus against the real Redis, and what it does when Redis is away."""

from __future__ import annotations

import redis

from events import BufferedPublisher, BusConfig, EventPublisher
from tests.api.test_api import make_event
from zones import Event


def test_events_wait_while_redis_is_unreachable_and_all_arrive_after(redis_bus: BusConfig):
    events = [make_event("cam-a", "gate", "illegal_parking_motor", float(t)) for t in range(4)]
    unreachable = BusConfig(redis_url="redis://127.0.0.1:1/0", stream=redis_bus.stream)
    sink = BufferedPublisher(EventPublisher(unreachable))
    sink(events[:3])
    sink(events[3:])
    assert sink.pending == 4 and sink.last_error is not None

    sink.publisher = EventPublisher(redis_bus)  # Redis is back
    assert sink.flush() is True
    assert sink.pending == 0 and sink.dropped == 0
    stored = redis.Redis.from_url(redis_bus.redis_url).xrange(redis_bus.stream)
    assert [Event.model_validate_json(fields[b"event"]) for _id, fields in stored] == events


def test_a_full_buffer_keeps_the_newest_events_and_counts_the_rest(redis_bus: BusConfig):
    unreachable = BusConfig(redis_url="redis://127.0.0.1:1/0", stream=redis_bus.stream)
    sink = BufferedPublisher(EventPublisher(unreachable), max_buffered=3)
    events = [make_event("cam-a", "gate", "illegal_parking_motor", float(t)) for t in range(5)]
    sink(events)
    assert sink.pending == 3 and sink.dropped == 2
    sink.publisher = EventPublisher(redis_bus)
    sink.flush()
    stored = redis.Redis.from_url(redis_bus.redis_url).xrange(redis_bus.stream)
    assert [Event.model_validate_json(f[b"event"]).start_s for _i, f in stored] == [2.0, 3.0, 4.0]
