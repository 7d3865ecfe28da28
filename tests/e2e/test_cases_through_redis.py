"""Replayed events go through the real Redis stream into the real API's database, once."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import ApiConfig
from events import EventPublisher
from tests.helpers import wait_until
from zones import EventState


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cases.db'}"
    return request.getfixturevalue("postgres_url")


def test_replayed_events_become_one_case_per_episode(residential_run, residential_media, redis_bus, database_url):
    events = residential_run.events
    episodes = {e.event_id for e in events}
    app = create_app(ApiConfig(database_url=database_url), redis_bus, residential_media)
    with TestClient(app) as client:
        consumer = app.state.consumer.consumer
        EventPublisher(redis_bus).publish(events)
        wait_until(lambda: consumer.handled == len(events), what="the first delivery")

        page = client.get("/api/cases", params={"page_size": 200}).json()
        assert page["total"] == len(episodes) == 3
        assert {c["event_id"] for c in page["items"]} == episodes
        for case in page["items"]:
            assert case["class"] == "illegal_parking_motor" and case["class_name_zh"] == "机动车乱停放"
            assert case["code_gbt_47678_5"] == "09009" and case["department_zh"] == "交警"
            assert case["status"] == "new" and case["zone_id"] == "far-curb"
            assert case["active"] is False and case["end_s"] > 70.0  # the clip ended with the cars still there
            detail = client.get(f"/api/cases/{case['id']}").json()
            states = [e["state"] for e in detail["events"]]
            assert states[0] == "start" and states[-1] == "end" and "update" in states
            picture = client.get(detail["evidence_url"])
            assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"
            assert picture.content[:2] == b"\xff\xd8"

        counts = {c["id"]: len(client.get(f"/api/cases/{c['id']}").json()["events"]) for c in page["items"]}
        # Everything delivered a second time (a worker restart, a retry): nothing new appears.
        EventPublisher(redis_bus).publish(events)
        wait_until(lambda: consumer.handled == 2 * len(events), what="the re-delivery")
        assert client.get("/api/cases").json()["total"] == 3
        assert {c: len(client.get(f"/api/cases/{c}").json()["events"]) for c in counts} == counts
        assert all(e.state in EventState for e in events)
