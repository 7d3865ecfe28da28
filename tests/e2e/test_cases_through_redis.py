"""Replayed events go through the real Redis stream into the real API's database, once."""

from __future__ import annotations

import pytest

from zones import EventState


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    return None if request.param == "sqlite" else request.getfixturevalue("postgres_url")


def test_replayed_episodes_merge_into_one_case_and_redelivery_adds_nothing(
    residential_run, residential_media, database_url, make_api
):  # type: ignore[no-untyped-def]
    events = residential_run.events
    episodes = {e.event_id for e in events}
    assert len(episodes) == 3  # the three cars parked at the far curb
    api = make_api(database_url)
    api.app.state.snapshots.root = residential_media.resolve()
    api.publish_and_wait(events)

    cases = api.cases()
    # One place, one class, one open problem: the three cars' episodes are one case.
    assert len(cases) == 1
    case = cases[0]
    assert case["episodes"] == 3 and case["event_id"] in episodes
    assert case["class"] == "illegal_parking_motor" and case["class_name_zh"] == "机动车乱停放"
    assert case["code_gbt_47678_5"] == "09009" and case["department_zh"] == "交警"
    assert case["status"] == "new" and case["zone_id"] == "far-curb"
    assert case["active"] is False and case["end_s"] > 70.0  # the clip ended with the cars still there
    detail = api.get(f"/api/cases/{case['id']}").json()
    assert {e["event_id"] for e in detail["events"]} == episodes
    states = [e["state"] for e in detail["events"]]
    assert states.count("start") == 3 and states.count("end") == 3 and "update" in states
    assert [t["action"] for t in detail["timeline"]] == ["created", "merged", "merged", "episode_ended",
                                                         "episode_ended", "episode_ended"]
    picture = api.get(detail["evidence_url"])
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"
    assert picture.content[:2] == b"\xff\xd8"

    # Everything delivered a second time (a worker restart, a retry): nothing new appears.
    consumer = api.app.state.consumer.consumer
    api.publish_and_wait(events)
    assert consumer.handled == 2 * len(events)
    again = api.get(f"/api/cases/{case['id']}").json()
    assert len(api.cases()) == 1 and len(again["events"]) == len(detail["events"])
    assert len(again["timeline"]) == len(detail["timeline"])
    assert all(e.state in EventState for e in events)
