"""The case life cycle: every move legal or refused with a reason, merging, routing, escalation, the timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.services.escalation import escalate_overdue
from api.services.lifecycle import TRANSITIONS, CaseStatus, TransitionError, check_transition
from api.services.routing import RoutingConfig, WorkingHours, parse_duration
from tests.api_fixture import Api
from tests.helpers import make_event

LEGAL = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
EVERY_PAIR = [(a, b) for a in CaseStatus for b in CaseStatus]
# The shortest way from `new` to each status, by API.
PATH_TO = {
    CaseStatus.NEW: [],
    CaseStatus.CONFIRMED: ["confirmed"],
    CaseStatus.DISMISSED: ["dismissed"],
    CaseStatus.DISPATCHED: ["confirmed", "dispatched"],
    CaseStatus.RESOLVED: ["confirmed", "dispatched", "resolved"],
    CaseStatus.CLOSED: ["confirmed", "dispatched", "resolved", "closed"],
    CaseStatus.REOPENED: ["confirmed", "dispatched", "resolved", "reopened"],
}


def test_the_state_machine_is_the_one_the_centre_works_by():
    assert {
        ("new", "confirmed"), ("new", "dismissed"), ("confirmed", "dispatched"), ("dispatched", "resolved"),
        ("resolved", "closed"), ("resolved", "reopened"), ("reopened", "dispatched"),
    } == LEGAL
    for current, target in EVERY_PAIR:
        reason = "false_detection" if target is CaseStatus.DISMISSED else None
        if (current, target) in LEGAL:
            check_transition(current, target, reason)
        else:
            with pytest.raises(TransitionError, match="cannot become"):
                check_transition(current, target, reason)


def _case_in(api: Api, status: CaseStatus, zone: str) -> int:
    api.publish_and_wait([make_event("cam-a", zone, "illegal_parking_motor", 1.0, snapshot=f"evidence/{zone}.jpg")])
    case_id = next(c["id"] for c in api.cases() if c["zone_id"] == zone)
    for step in PATH_TO[status]:
        body = {"reason": "duplicate"} if step == "dismissed" else {}
        assert api.move(case_id, step, **body).status_code == 200, (status, step)
    return case_id


def test_every_move_through_the_api_is_allowed_or_refused_with_409(make_api):  # type: ignore[no-untyped-def]
    api = make_api(verification={"enabled": False})
    for index, (current, target) in enumerate(EVERY_PAIR):
        case_id = _case_in(api, current, f"zone-{index}")
        body = {"reason": "other"} if target is CaseStatus.DISMISSED else {}
        reply = api.move(case_id, target.value, note=f"{current}->{target}", **body)
        if (current, target) in LEGAL:
            assert reply.status_code == 200, (current, target, reply.text)
            assert reply.json()["status"] == target.value
            last = reply.json()["timeline"][-1]
            assert (last["actor"], last["from_status"], last["to_status"], last["note"]) == (
                "dispatcher", current.value, target.value, f"{current}->{target}")
        else:
            assert reply.status_code == 409, (current, target)
            assert "cannot become" in reply.json()["detail"]
            assert api.get(f"/api/cases/{case_id}").json()["status"] == current.value  # nothing half-done


def test_a_dismissal_needs_a_reason_and_keeps_it_with_the_evidence(api: Api):
    case_id = _case_in(api, CaseStatus.NEW, "gate")
    refused = api.move(case_id, "dismissed")
    assert refused.status_code == 409 and "reason" in refused.json()["detail"]
    assert api.move(case_id, "dismissed", reason="littering").status_code == 422
    assert api.move(case_id, "confirmed", reason="allowed").status_code == 409  # only a dismissal takes one
    done = api.move(case_id, "dismissed", reason="false_detection", note="a shadow").json()
    assert done["dismiss_reason"] == "false_detection" and done["evidence_url"] == "/media/evidence/gate.jpg"
    assert done["timeline"][-1]["reason"] == "false_detection" and done["closed_at"] is not None
    assert done["actions"] == []  # dismissed is final


def test_episodes_join_the_open_case_and_a_closed_case_is_never_reopened_by_one(make_api):  # type: ignore[no-untyped-def]
    api = make_api(verification={"enabled": False})
    api.publish_and_wait([make_event("cam-a", "gate", "illegal_parking_motor", 1.0, track=1),
                          make_event("cam-a", "gate", "illegal_parking_motor", 2.0, track=2),
                          make_event("cam-a", "gate", "illegal_parking_nonmotor", 2.0, track=3),
                          make_event("cam-b", "gate", "illegal_parking_motor", 2.0, track=4)])
    cases = api.cases()
    assert len(cases) == 3  # another class or another camera is another case
    first = next(c for c in cases if c["camera_id"] == "cam-a" and c["class"] == "illegal_parking_motor")
    assert first["episodes"] == 2
    for step in ("confirmed", "dispatched", "resolved", "closed"):
        api.move(first["id"], step)
    api.publish_and_wait([make_event("cam-a", "gate", "illegal_parking_motor", 90.0, track=9)])
    again = [c for c in api.cases() if c["camera_id"] == "cam-a" and c["class"] == "illegal_parking_motor"]
    assert len(again) == 2 and {c["status"] for c in again} == {"closed", "new"}
    assert api.get(f"/api/cases/{first['id']}").json()["episodes"] == 2


def test_routing_sets_assignee_priority_and_deadline_on_confirmation(make_api):  # type: ignore[no-untyped-def]
    routing = {
        "default": {"deadline": "24h"},
        "rules": [
            {"name": "garbage", "match": {"class": "exposed_garbage"}, "assignee": "环卫所", "deadline": "4h"},
            {"name": "grid-9-parking", "match": {"class": "illegal_parking_motor", "grid": "grid-9"},
             "assignee": "grid-9 team", "deadline": "30m", "assign_at": "create"},
        ],
    }
    api = make_api(routing=routing, verification={"enabled": False})
    api.publish_and_wait([
        make_event("cam-a", "bins", "exposed_garbage", 1.0, zone_kind="bin_area", priority="normal"),
        make_event("cam-a", "school-gate", "illegal_parking_nonmotor", 1.0, zone_kind="school", priority="high"),
        make_event("cam-a", "curb", "illegal_parking_motor", 1.0, zone_kind="no_parking", priority="normal",
                   grid="grid-9"),
    ])
    cases = {c["zone_id"]: c for c in api.cases()}
    assert cases["bins"]["assignee"] is None and cases["bins"]["deadline"] is None  # routed on confirmation
    routed_at_once = cases["curb"]
    assert routed_at_once["assignee"] == "grid-9 team" and routed_at_once["deadline"] is not None
    garbage = api.move(cases["bins"]["id"], "confirmed").json()
    assert garbage["assignee"] == "环卫所" and garbage["priority"] == "normal"
    deadline = datetime.fromisoformat(garbage["deadline"])
    assert timedelta(hours=3, minutes=59) < deadline - datetime.now(UTC) <= timedelta(hours=4)
    school = api.move(cases["school-gate"]["id"], "confirmed").json()
    # No rule: the class's department; a school zone raises the priority a level above the route's.
    assert school["assignee"] == "社区/物业 community / property management" and school["priority"] == "high"
    dispatched = api.move(school["id"], "dispatched", assignee="第二网格 grid-02").json()
    assert dispatched["assignee"] == "第二网格 grid-02"


def test_working_hours_deadlines_skip_nights_and_weekends():
    calendar = WorkingHours()  # Mon-Fri 08:30-17:30 Asia/Shanghai
    friday_4pm = datetime(2026, 11, 27, 16, 0, tzinfo=calendar_zone())
    due = calendar.add(friday_4pm, parse_duration("4h"))
    assert due == datetime(2026, 11, 30, 11, 0, tzinfo=calendar_zone())  # 1.5 h on Friday, 2.5 h on Monday
    assert calendar.add(datetime(2026, 11, 28, 23, 0, tzinfo=calendar_zone()), parse_duration("30m")) == \
        datetime(2026, 11, 30, 9, 0, tzinfo=calendar_zone())
    for bad in ("soon", "-1h", "0h", "400d"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    with pytest.raises(ValueError, match="must be after"):
        RoutingConfig.model_validate({"working_hours": {"start": "18:00", "end": "09:00"}})


def calendar_zone():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


def test_overdue_cases_escalate_once_with_an_injected_clock(make_api):  # type: ignore[no-untyped-def]
    api = make_api(routing={"default": {"deadline": "2h"}}, verification={"enabled": False},
                   escalate_every_s=3600)
    api.publish_and_wait([make_event("cam-a", "curb", "illegal_parking_motor", 1.0, zone_kind="no_parking",
                                     priority="normal")])
    case_id = api.cases()[0]["id"]
    api.move(case_id, "confirmed")
    sessions = api.app.state.sessions
    now = datetime.now(UTC)
    assert escalate_overdue(sessions, now + timedelta(hours=1)) == []
    assert api.get("/api/cases", params={"overdue": True}).json()["total"] == 0
    assert escalate_overdue(sessions, now + timedelta(hours=2, minutes=1)) == [case_id]
    assert escalate_overdue(sessions, now + timedelta(hours=5)) == []  # once
    case = api.get(f"/api/cases/{case_id}").json()
    assert case["escalated"] is True and case["priority"] == "high"
    assert case["timeline"][-1]["action"] == "escalated" and case["timeline"][-1]["actor"] == "system"
    # A resolved case waits on the camera, not on people: it does not run late.
    api.move(case_id, "dispatched")
    api.move(case_id, "resolved")
    assert api.get("/api/cases", params={"overdue": True}).json()["total"] == 0
