"""The case API on hand-made events: filters, paging, errors, evidence safety, bad messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import redis
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import ApiConfig
from events import BusConfig, EventPublisher, EvidenceStore
from tests.helpers import wait_until
from zones import Event, EventState, episode_id


def make_event(camera: str, zone: str, problem: str, start: float, state: str = "start", track: int = 1) -> Event:
    return Event.model_validate({
        "event_id": episode_id(camera, zone, problem, start, track), "class": problem, "camera_id": camera,
        "zone_id": zone, "zone_kind": "school", "state": state, "start_s": start, "ts_s": start, "since_s": start - 5,
        "confidence": 0.7, "bbox": (0.1, 0.2, 0.3, 0.4), "label": "car", "track_id": track, "priority": "high",
    })


@pytest.fixture
def client(tmp_path: Path, redis_bus: BusConfig):  # type: ignore[no-untyped-def]
    app = create_app(ApiConfig(database_url=f"sqlite:///{tmp_path / 'cases.db'}"), redis_bus, tmp_path / "media")
    with TestClient(app) as test_client:
        yield test_client


def publish_and_wait(client: TestClient, bus: BusConfig, events: list[Event]) -> None:
    consumer = client.app.state.consumer.consumer  # type: ignore[attr-defined]
    target = consumer.handled + consumer.dead_lettered + len(events)
    EventPublisher(bus).publish(events)
    wait_until(lambda: consumer.handled + consumer.dead_lettered >= target, what="the consumer")


def test_filters_and_pages(client: TestClient, redis_bus: BusConfig):
    events = [make_event("cam-a", "gate", "illegal_parking_motor", float(t)) for t in range(5)]
    events += [make_event("cam-b", "gate", "illegal_parking_nonmotor", float(t)) for t in range(3)]
    publish_and_wait(client, redis_bus, events)
    assert client.get("/api/cases").json()["total"] == 8
    by_camera = client.get("/api/cases", params={"camera_id": "cam-b"}).json()
    assert by_camera["total"] == 3 and {c["camera_id"] for c in by_camera["items"]} == {"cam-b"}
    by_class = client.get("/api/cases", params={"class": "illegal_parking_motor", "status": "new"}).json()
    assert by_class["total"] == 5
    pages = [client.get("/api/cases", params={"page": p, "page_size": 3}).json() for p in (1, 2, 3)]
    assert [len(p["items"]) for p in pages] == [3, 3, 2]
    assert len({c["id"] for p in pages for c in p["items"]}) == 8
    assert client.get("/api/cases", params={"status": "dispatched"}).json()["total"] == 0


def test_bad_requests_get_clear_errors(client: TestClient):
    assert client.get("/api/cases", params={"class": "littering"}).status_code == 422
    assert client.get("/api/cases", params={"status": "lost"}).status_code == 422
    assert client.get("/api/cases", params={"page": 0}).status_code == 422
    missing = client.get("/api/cases/999")
    assert missing.status_code == 404 and "not found" in missing.json()["detail"]


def test_evidence_is_served_only_from_the_media_dir(client: TestClient, tmp_path: Path):
    event = make_event("cam-a", "gate", "illegal_parking_motor", 1.0)
    relative = EvidenceStore(tmp_path / "media").save(event, np.zeros((120, 160, 3), dtype=np.uint8))
    assert client.get(f"/media/{relative}").status_code == 200
    (tmp_path / "secret.jpg").write_bytes(b"\xff\xd8 not for the public")
    for path in ("/media/../secret.jpg", "/media/%2e%2e/secret.jpg", "/media/evidence/none.jpg", "/media//etc/passwd"):
        assert client.get(path).status_code == 404, path


def test_a_bad_message_is_dead_lettered_and_the_next_one_still_makes_a_case(client: TestClient, redis_bus: BusConfig):
    consumer = client.app.state.consumer.consumer  # type: ignore[attr-defined]
    raw = redis.Redis.from_url(redis_bus.redis_url)
    raw.xadd(redis_bus.stream, {"event": b'{"class": "illegal_parking_motor", "camera_id": "x"}'})
    raw.xadd(redis_bus.stream, {"not_event": b"garbage"})
    EventPublisher(redis_bus).publish([make_event("cam-a", "gate", "illegal_parking_motor", 3.0)])
    wait_until(lambda: consumer.handled + consumer.dead_lettered == 3, what="all three messages")
    assert consumer.dead_lettered == 2 and consumer.handled == 1
    assert raw.xlen(redis_bus.dead_letter_stream) == 2
    assert client.get("/api/cases").json()["total"] == 1
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["consumer"]["dead_lettered"] == 2


def test_events_out_of_order_still_make_one_complete_case(client: TestClient, redis_bus: BusConfig):
    start = make_event("cam-a", "gate", "illegal_parking_motor", 10.0)
    end = start.model_copy(update={"state": EventState.END, "ts_s": 40.0, "end_s": 35.0})
    publish_and_wait(client, redis_bus, [end, start])
    cases = client.get("/api/cases").json()["items"]
    assert len(cases) == 1
    assert cases[0]["end_s"] == 35.0 and cases[0]["last_seen_s"] == 35.0 and cases[0]["priority"] == "high"
    assert cases[0]["created_at"].endswith("Z")  # times are UTC and say so, SQLite or not
