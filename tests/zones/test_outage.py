"""Dwell is time the camera saw the object stay. After frames stop for longer than the tracker's `lost_s` (an
outage, a reconnect), nobody saw it: the dwell starts again, under the old track id or a new one. A shorter gap
keeps it. And a first sighting at 0.0 s is a time like any other."""

from __future__ import annotations

import numpy as np
import pytest

from detector import Detections
from zones import ClusterRuleConfig, EventState, ProblemClass, StationaryClusterRule, ZoneConfig, ZoneMap
from zones.config import RulesConfig
from zones.context import FrameContext
from zones.readings import ZoneReading
from zones.rules import build_rule
from zones.scene import GroupReading

FRAME = (1000, 1000)
CURB = ZoneConfig(id="curb", kind="no_parking", polygon=[(0.0, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0)])
PAVEMENT = ZoneConfig(id="pavement", kind="no_vending", polygon=[(0.0, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0)])
RULES = RulesConfig.model_validate({"illegal_parking_motor": {"dwell_s": 10, "clear_s": 30, "update_every_s": 100}})
CAR = [100.0, 600.0, 200.0, 700.0]
LOST_S = 5.0


def starts(frames: list[tuple[float, int]]) -> list[tuple[float, float]]:
    """(time, since) of each `start` for a car standing still in the curb zone on these (time, track id) frames."""
    rule = build_rule("cam", ProblemClass.ILLEGAL_PARKING_MOTOR, [CURB], RULES, frozenset({"car"}), lost_s=LOST_S)
    found = []
    for ts, track_id in frames:
        detections = Detections(np.array([CAR]), [0.8], ["car"], [track_id])
        for event in rule.update(FrameContext.build(ts, detections, ZoneMap([CURB]), FRAME)):
            if event.state is EventState.START:
                found.append((event.ts_s, event.since_s))
    return found


@pytest.mark.parametrize("new_id", [False, True], ids=["same-track-id", "new-track-id"])
def test_a_gap_in_the_frames_longer_than_lost_s_starts_the_dwell_again(new_id: bool):
    before = [(t * 0.5, 1) for t in range(0, 13)]  # 0 .. 6 s seen still
    after = [(20.0 + t * 0.5, 2 if new_id else 1) for t in range(0, 30)]  # camera back at 20 s (14 s of nothing)
    assert starts(before + after) == [(30.0, 20.0)]  # not at 20 s, as 6 s + 14 s of "dwell" would have it


def test_a_gap_shorter_than_lost_s_keeps_the_dwell():
    before = [(t * 0.5, 1) for t in range(0, 13)]  # 0 .. 6 s
    after = [(10.0 + t * 0.5, 1) for t in range(0, 10)]  # back at 10 s: 4 s without frames
    assert starts(before + after) == [(10.0, 0.0)]


def test_frames_without_the_car_are_not_a_gap_in_the_frames():
    """Hidden behind a bus while the camera keeps sending frames: the tracker's business, not an outage."""
    seen = [(t * 0.5, 1) for t in range(0, 13)]
    rule = build_rule("cam", ProblemClass.ILLEGAL_PARKING_MOTOR, [CURB], RULES, frozenset({"car"}), lost_s=LOST_S)
    events = []
    for ts, boxes in [(ts, [CAR]) for ts, _ in seen] + [(6.5 + t * 0.5, []) for t in range(0, 12)] + \
            [(12.5 + t * 0.5, [CAR]) for t in range(0, 4)]:
        detections = Detections(np.array(boxes).reshape(-1, 4), [0.8] * len(boxes), ["car"] * len(boxes),
                                [1] * len(boxes))
        events += rule.update(FrameContext.build(ts, detections, ZoneMap([CURB]), FRAME))
    assert [(e.ts_s, e.state, e.since_s) for e in events] == [(12.5, EventState.START, 0.0)]


def test_an_open_episode_is_not_raised_twice_after_a_gap():
    before = [(t * 0.5, 1) for t in range(0, 25)]  # raised at 10 s
    after = [(25.0 + t * 0.5, 2) for t in range(0, 30)]  # back after 13 s, within clear_s, new id
    assert starts(before + after) == [(10.0, 0.0)]


def test_zone_readings_from_the_first_frame_at_zero_seconds_is_the_episodes_since():
    params = ClusterRuleConfig(dwell_s=5, clear_s=3, person_ratio=0.5, update_every_s=100)
    rule = StationaryClusterRule("cam", ProblemClass.STREET_VENDING, frozenset({"umbrella"}), [PAVEMENT], params)
    stall = ZoneReading(0.0, {"stall": GroupReading(0.45, 0.02)})
    person = Detections(np.array([[450.0, 600.0, 520.0, 900.0]]), [0.8], ["person"], [1])
    events = [e for t in range(0, 16) for e in rule.update(FrameContext.build(
        t * 0.5, person, ZoneMap([PAVEMENT]), FRAME, zone_readings={"pavement": stall}))]
    assert [(e.state, e.ts_s, e.since_s) for e in events] == [(EventState.START, 5.0, 0.0)]
