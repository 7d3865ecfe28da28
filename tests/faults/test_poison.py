"""Poison messages of every kind the probe found, each followed by good events that must still become cases."""

from __future__ import annotations

import json

import redis

from tests.faults.conftest import bus_on, episodes, record, wait_for_all
from tests.helpers import make_event, wait_until


def _poisons() -> list[tuple[str, bytes | dict[str, bytes]]]:
    """(what, the stream entry's payload): bytes go in the `event` field, a dict is the whole entry."""
    good = json.loads(make_event("cam-p", "gate", "illegal_parking_motor", 1.0).model_dump_json())
    kinds: list[tuple[str, bytes | dict[str, bytes]]] = []
    for field in ("label", "zone_name", "grid", "snapshot", "event_id"):
        kinds.append((f"NUL in {field}", json.dumps({**good, field: "a\u0000b"}).encode()))
    for field in ("ts_s", "start_s", "since_s", "end_s"):
        for token in ("NaN", "Infinity", "-Infinity"):
            text = json.dumps({**good, field: 0.0}).replace(f'"{field}": 0.0', f'"{field}": {token}')
            kinds.append((f"{token} in {field}", text.encode()))
    for token in ("NaN", "Infinity"):
        kinds.append((f"{token} in bbox", json.dumps(good).replace('"bbox": [0.1', f'"bbox": [{token}').encode()))
    kinds += [
        ("not JSON", b"{not json"),
        ("not UTF-8", b"\xff\xfe\x00garbage"),
        ("empty", b""),
        ("a field missing", json.dumps({k: v for k, v in good.items() if k != "camera_id"}).encode()),
        ("a wrong type", json.dumps({**good, "confidence": "high"}).encode()),
        ("out of range", json.dumps({**good, "confidence": 2.0}).encode()),
        ("too long", json.dumps({**good, "label": "x" * 10_000}).encode()),
        ("another field", {"evnet": json.dumps(good).encode()}),
    ]
    return kinds


def test_every_poison_is_dead_lettered_with_its_reason_and_the_good_events_behind_it_arrive(
    pg, redis_plain, api_process
):  # type: ignore[no-untyped-def]
    bus = bus_on(redis_plain)
    api = api_process(pg.url, bus)
    client = redis.Redis.from_url(bus.redis_url)
    good = episodes(30 * len(_poisons()), "after-poison")
    impostor = make_event("cam-z", "elsewhere", "illegal_parking_motor", 7.0).model_copy(
        update={"event_id": good[0].event_id})
    poisons = _poisons()
    per_poison = len(good) // len(poisons)
    for index, (_what, payload) in enumerate(poisons):
        fields = payload if isinstance(payload, dict) else {"event": payload}
        client.xadd(bus.stream, fields)  # type: ignore[arg-type]
        for event in good[index * per_poison:(index + 1) * per_poison]:
            client.xadd(bus.stream, {"event": event.model_dump_json()})
    wait_until(lambda: wait_for_all(pg.url, good, timeout_s=0).stored == len(good), timeout_s=180,
               what="the good events")
    client.xadd(bus.stream, {"event": impostor.model_dump_json()})
    wait_until(lambda: client.xlen(bus.dead_letter_stream) == len(poisons) + 1, timeout_s=60,
               what="every poison in the dead-letter stream")
    counted = wait_for_all(pg.url, good)
    reasons = [fields[b"reason"].decode() for _id, fields in client.xrange(bus.dead_letter_stream)]
    record("poison messages", counted, poisons=len(poisons) + 1, dead_lettered=len(reasons))
    assert counted.exact(), counted
    assert all(reasons), reasons
    assert "belongs to case" in reasons[-1]  # the impostor could not rewrite another episode's case
    assert sum("not a valid event" in r for r in reasons) == len(poisons) - 1
    health = api.get("/api/health", headers=api.admin()).json()
    assert health["figures"]["events"]["dead_letters"] == len(poisons) + 1 and health["status"] == "ok"
