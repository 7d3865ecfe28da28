"""The case API on hand-made events: filters, sorts, paging, errors, evidence safety, bad messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import redis

from bus import SnapshotStore
from tests.api_fixture import Api
from tests.helpers import make_event, wait_until
from zones import EventState


def test_filters_sorts_and_pages(api: Api):
    events = [make_event("cam-a", f"gate-{t}", "illegal_parking_motor", float(t)) for t in range(5)]
    events += [make_event("cam-b", f"curb-{t}", "illegal_parking_nonmotor", float(t), zone_kind="no_parking",
                          priority="normal", grid="grid-07") for t in range(3)]
    api.publish_and_wait(events)
    assert api.get("/api/cases").json()["total"] == 8
    by_camera = api.get("/api/cases", params={"camera_id": "cam-b"}).json()
    assert by_camera["total"] == 3 and {c["camera_id"] for c in by_camera["items"]} == {"cam-b"}
    assert api.get("/api/cases", params={"class": "illegal_parking_motor", "status": "new"}).json()["total"] == 5
    assert api.get("/api/cases", params={"grid": "grid-07"}).json()["total"] == 3
    assert api.get("/api/cases", params={"priority": "high"}).json()["total"] == 5
    assert api.get("/api/cases", params={"zone_kind": "no_parking"}).json()["total"] == 3
    by_priority = [c["priority"] for c in api.cases(sort="-priority")]
    assert by_priority == ["high"] * 5 + ["normal"] * 3
    pages = [api.get("/api/cases", params={"page": p, "page_size": 3}).json() for p in (1, 2, 3)]
    assert [len(p["items"]) for p in pages] == [3, 3, 2]
    assert len({c["id"] for p in pages for c in p["items"]}) == 8
    assert api.get("/api/cases", params={"status": "dispatched"}).json()["total"] == 0


def test_numbered_pages_stop_counting_at_the_limit_and_say_so(api: Api, monkeypatch: pytest.MonkeyPatch):
    from api.services import queries

    api.publish_and_wait([make_event("cam-a", f"lot-{t}", "illegal_parking_motor", float(t)) for t in range(6)])
    assert api.get("/api/cases").json()["total_exact"] is True
    monkeypatch.setattr(queries, "COUNT_LIMIT", 4)  # a million cases, in small
    page = api.get("/api/cases", params={"page": 2, "page_size": 4}).json()
    assert page["total"] == 4 and page["total_exact"] is False
    assert len(page["items"]) == 2  # the pages themselves go on past the count
    exact = api.get("/api/cases", params={"camera_id": "cam-a", "class": "illegal_parking_motor", "page_size": 2,
                                          "status": "new", "grid": "none-such"}).json()
    assert exact["total"] == 0 and exact["total_exact"] is True


SORTS = ("-created_at", "created_at", "-updated_at", "-priority", "deadline")  # every sort the API offers
RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}


def _expected(cases: list[dict], sort: str) -> list[int]:
    """The order each sort promises, worked out here from the cases' own fields; the id breaks every tie."""
    from datetime import datetime

    def at(c: dict, field: str) -> datetime:
        return datetime.fromisoformat(c[field] or "9999-12-31T00:00:00+00:00")

    keys = {
        "-created_at": lambda c: (at(c, "created_at"), c["id"]), "created_at": lambda c: (at(c, "created_at"), c["id"]),
        "-updated_at": lambda c: (at(c, "updated_at"), c["id"]),
        "-priority": lambda c: (RANK[c["priority"]], at(c, "created_at"), c["id"]),
        "deadline": lambda c: (at(c, "deadline"), c["id"]),
    }
    return [c["id"] for c in sorted(cases, key=keys[sort], reverse=sort.startswith("-"))]


def _keyset(api: Api, sort: str, page_size: int) -> list[int]:
    seen, cursor = [], ""
    while cursor is not None:
        page = api.get("/api/cases", params={"cursor": cursor, "page_size": page_size, "sort": sort}).json()
        assert page["total"] is None and len(page["items"]) <= page_size
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
    return seen


def test_keyset_pages_cover_every_case_once_in_order(api: Api):
    api.publish_and_wait([make_event("cam-a", f"z{t}", "illegal_parking_motor", float(t),
                                     priority=("high", "normal", "low")[t % 3]) for t in range(7)])
    cases = api.cases()
    assert len(cases) == 7
    for sort in SORTS:
        assert _keyset(api, sort, 3) == _expected(cases, sort), sort


def test_keyset_pages_break_ties_by_id_across_page_boundaries(make_api):  # type: ignore[no-untyped-def]
    """One instant for every case (a burst of events in one clock tick): every sort ties on its time columns and
    its priority runs, so only the id orders them, and pages of 2 cut through each run of ties."""
    from datetime import UTC, datetime

    instant = datetime.now(UTC).replace(microsecond=0)
    api = make_api(clock=lambda: instant, routing={"default": {"deadline": "2h"}})
    priorities = ("normal", "high", "normal", "high", "normal", "low", "high")
    api.publish_and_wait([make_event("cam-a", f"z{t}", "illegal_parking_motor", float(t), priority=p)
                          for t, p in enumerate(priorities)])
    cases = api.cases()
    assert len(cases) == 7 and len({c["created_at"] for c in cases}) == 1
    ids = sorted(c["id"] for c in cases)
    for sort in SORTS:
        assert _keyset(api, sort, 2) == _expected(cases, sort), sort
    assert _keyset(api, "-created_at", 2) == ids[::-1] and _keyset(api, "deadline", 2) == ids


def test_bad_requests_get_clear_errors(api: Api):
    assert api.get("/api/cases", params={"class": "littering"}).status_code == 422
    assert api.get("/api/cases", params={"status": "lost"}).status_code == 422
    assert api.get("/api/cases", params={"page": 0}).status_code == 422
    assert api.get("/api/cases", params={"cursor": "not-ours"}).status_code == 422
    assert api.get("/api/cases/0").status_code == 422
    assert api.get(f"/api/cases/{2**63}").status_code == 422
    missing = api.get("/api/cases/999")
    assert missing.status_code == 404 and "not found" in missing.json()["detail"]


def test_evidence_is_served_only_to_users_and_only_from_the_media_dir(api: Api, tmp_path: Path):
    event = make_event("cam-a", "gate", "illegal_parking_motor", 1.0)
    relative = SnapshotStore(tmp_path / "media").save(event, np.zeros((120, 160, 3), dtype=np.uint8))
    assert api.get(f"/media/{relative}").status_code == 200
    assert api.client.get(f"/media/{relative}").status_code == 401
    (tmp_path / "secret.jpg").write_bytes(b"\xff\xd8 not for the public")
    for path in ("/media/../secret.jpg", "/media/%2e%2e/secret.jpg", "/media/evidence/none.jpg", "/media//etc/passwd",
                 "/media/" + "a" * 300 + ".jpg"):
        assert api.get(path).status_code == 404, path


def test_bad_messages_are_dead_lettered_and_the_next_one_still_makes_a_case(api: Api):
    consumer = api.app.state.consumer.consumer
    raw = redis.Redis.from_url(api.bus.redis_url)
    raw.xadd(api.bus.stream, {"event": b'{"class": "illegal_parking_motor", "camera_id": "x"}'})
    raw.xadd(api.bus.stream, {"not_event": b"garbage"})
    good = make_event("cam-a", "gate", "illegal_parking_motor", 3.0)
    # An event that reuses another episode's id at another place must not rewrite that episode's case.
    impostor = make_event("cam-z", "elsewhere", "illegal_parking_motor", 9.0).model_copy(
        update={"event_id": good.event_id})
    api.publish_and_wait([good])
    api.publish_and_wait([impostor])
    wait_until(lambda: consumer.dead_lettered == 3, what="three dead letters")
    assert consumer.handled == 1
    reasons = [f[b"reason"].decode() for _i, f in raw.xrange(api.bus.dead_letter_stream)]
    assert "not a valid event" in reasons[0] and "belongs to case" in reasons[2]
    cases = api.cases()
    assert len(cases) == 1 and cases[0]["camera_id"] == "cam-a"


def test_events_out_of_order_still_make_one_complete_case(api: Api):
    start = make_event("cam-a", "gate", "illegal_parking_motor", 10.0)
    end = start.model_copy(update={"state": EventState.END, "ts_s": 40.0, "end_s": 35.0})
    api.publish_and_wait([end, start])
    cases = api.cases()
    assert len(cases) == 1
    assert cases[0]["end_s"] == 35.0 and cases[0]["last_seen_s"] == 35.0 and cases[0]["priority"] == "high"
    assert cases[0]["active"] is False
    assert cases[0]["created_at"].endswith("Z")  # times are UTC and say so, SQLite or not
