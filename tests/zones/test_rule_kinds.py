"""Presence, cluster, rider exclusion, cooldown and per-zone overrides, frame by frame."""

from __future__ import annotations

import numpy as np

from detector import Detections
from zones import (
    ClusterRuleConfig,
    EventState,
    PresenceRule,
    PresenceRuleConfig,
    ProblemClass,
    StationaryClusterRule,
    StationaryDwellRule,
    StationaryRuleConfig,
    ZoneConfig,
    ZoneMap,
)
from zones.context import FrameContext

FRAME = (1000, 1000)
LOWER_HALF = [(0.0, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0)]
WATER = [300.0, 700.0, 600.0, 800.0]


def step(rule, ts: float, boxes: list[list[float]], labels: list[str], ids: list[int] | None = None,
         conf: float = 0.8, zone: ZoneConfig | None = None):  # type: ignore[no-untyped-def]
    zone = zone or next(iter(rule.zones.values()))
    ids = ids if ids is not None else list(range(1, len(boxes) + 1))
    detections = Detections(np.array(boxes).reshape(-1, 4), [conf] * len(boxes), labels, ids)
    return rule.update(FrameContext.build(ts, detections, ZoneMap([zone]), FRAME))


def presence_rule(cooldown_s: float = 0.0) -> PresenceRule:
    zone = ZoneConfig(id="road", kind="road", polygon=LOWER_HALF)
    params = PresenceRuleConfig(window_s=10, p_on=0.6, p_off=0.15, update_every_s=100, cooldown_s=cooldown_s)
    return PresenceRule("cam", ProblemClass.STANDING_WATER, frozenset({"standing_water"}), [zone], params)


def run_presence(rule: PresenceRule, positive_at) -> list[tuple[float, EventState]]:  # type: ignore[no-untyped-def]
    out = []
    for t in range(0, 61):
        boxes = [WATER] if positive_at(t) else []
        out += [(e.ts_s, e.state) for e in step(rule, float(t), boxes, ["standing_water"] * len(boxes))]
    return out


def test_presence_raises_when_the_window_is_full_and_clears_with_hysteresis():
    # Water seen from 0 s to 20 s at one frame a second, with a 10 s window.
    out = run_presence(presence_rule(), lambda t: t <= 20)
    # Raised once 10 s of frames are in the window (not at 9 s), cleared only when 1 of the
    # 11 frames is left positive (30 s): at 26 s the share is 5/11, under p_on but over p_off.
    assert out == [(10.0, EventState.START), (30.0, EventState.END)]


def test_presence_ignores_a_detection_that_flickers_below_p_on():
    assert run_presence(presence_rule(), lambda t: t % 2 == 0) == []  # half the frames: under 0.6
    out = run_presence(presence_rule(), lambda t: t % 3 != 0)  # two thirds: over 0.6
    assert out[0][1] is EventState.START and all(s is not EventState.END for _, s in out)


def test_presence_cooldown_keeps_the_zone_quiet_after_an_episode():
    on_off_on = lambda t: t <= 20 or t >= 35  # noqa: E731
    assert [s for _, s in run_presence(presence_rule(), on_off_on)] == [
        EventState.START, EventState.END, EventState.START
    ]
    assert [s for _, s in run_presence(presence_rule(cooldown_s=100), on_off_on)] == [
        EventState.START, EventState.END
    ]


def vending_rule(person_ratio: float) -> StationaryClusterRule:
    zone = ZoneConfig(id="pavement", kind="no_vending", polygon=LOWER_HALF)
    params = ClusterRuleConfig(dwell_s=10, clear_s=4, person_ratio=person_ratio, update_every_s=100)
    return StationaryClusterRule("cam", ProblemClass.STREET_VENDING, frozenset({"umbrella", "dining table"}),
                                 [zone], params)


UMBRELLA = [400.0, 550.0, 500.0, 700.0]
TABLE = [380.0, 650.0, 520.0, 720.0]
VENDOR = [520.0, 500.0, 570.0, 710.0]


def test_a_tended_stall_raises_one_episode_for_the_whole_cluster():
    rule = vending_rule(person_ratio=0.5)
    events = [e for t in range(0, 25) for e in step(rule, t * 0.5, [UMBRELLA, TABLE, VENDOR],
                                                   ["umbrella", "dining table", "person"])]
    assert [(e.ts_s, e.state) for e in events] == [(10.0, EventState.START)]
    assert events[0].bbox == (0.38, 0.55, 0.52, 0.72)  # the stall's umbrella and table together
    assert events[0].track_id == -1


def test_an_unattended_umbrella_is_not_vending_but_the_same_objects_at_a_shop_front_are_business():
    rule = vending_rule(person_ratio=0.5)
    assert [e for t in range(0, 40) for e in step(rule, t * 0.5, [UMBRELLA, TABLE], ["umbrella", "dining table"])] == []
    shop = ZoneConfig(id="shop-7", kind="shop_front", polygon=LOWER_HALF)
    business = StationaryClusterRule("cam", ProblemClass.OUTSIDE_STORE_BUSINESS, frozenset({"dining table", "chair"}),
                                     [shop], ClusterRuleConfig(dwell_s=10, clear_s=4))
    events = [e for t in range(0, 40) for e in step(business, t * 0.5, [TABLE], ["dining table"])]
    events += [e for t in range(40, 60) for e in step(business, t * 0.5, [], [])]
    assert [(e.ts_s, e.state) for e in events] == [(10.0, EventState.START), (23.5, EventState.END)]


MOTORBIKE = [400.0, 600.0, 600.0, 800.0]
RIDER = [430.0, 450.0, 570.0, 780.0]  # head above the bike, legs down its side
BYSTANDER = [650.0, 500.0, 720.0, 800.0]


def nonmotor_rule(exclude_ridden: bool = True, zone: ZoneConfig | None = None) -> StationaryDwellRule:
    zone = zone or ZoneConfig(id="pavement", kind="no_parking", polygon=LOWER_HALF)
    params = StationaryRuleConfig(dwell_s=5, clear_s=3, exclude_ridden=exclude_ridden)
    return StationaryDwellRule("cam", ProblemClass.ILLEGAL_PARKING_NONMOTOR, frozenset({"motorcycle", "bicycle"}),
                               [zone], params)


def starts(rule, frames) -> list[float]:  # type: ignore[no-untyped-def]
    return [e.ts_s for t, boxes, labels in frames for e in step(rule, t, boxes, labels) if e.state is EventState.START]


def test_a_motorcycle_with_its_rider_is_waiting_not_parked():
    ridden = [(t * 0.5, [MOTORBIKE, RIDER], ["motorcycle", "person"]) for t in range(30)]
    assert starts(nonmotor_rule(), ridden) == []
    assert starts(nonmotor_rule(exclude_ridden=False), ridden) == [5.0]
    left = [(t * 0.5, [MOTORBIKE, BYSTANDER], ["motorcycle", "person"]) for t in range(30)]
    assert starts(nonmotor_rule(), left) == [5.0]  # someone standing beside it is not riding it


def test_zone_overrides_change_dwell_and_minimum_area_for_that_zone_only():
    quick = ZoneConfig(id="gate", kind="school", polygon=LOWER_HALF,
                       overrides={"illegal_parking_nonmotor": {"dwell_s": 2}})
    frames = [(t * 0.5, [MOTORBIKE], ["motorcycle"]) for t in range(20)]
    assert starts(nonmotor_rule(zone=quick), frames) == [2.0]
    strict = ZoneConfig(id="gate", kind="school", polygon=LOWER_HALF,
                        overrides={"illegal_parking_nonmotor": {"min_area": 0.05}})  # the bike is 4 %
    assert starts(nonmotor_rule(zone=strict), frames) == []


def test_parking_cooldown_after_a_car_leaves():
    zone = ZoneConfig(id="curb", kind="no_parking", polygon=LOWER_HALF)
    car = [100.0, 600.0, 300.0, 700.0]
    frames = [(t * 0.5, [car], ["car"]) for t in range(0, 20)]  # parked 0-9.5 s
    frames += [(10 + t * 0.5, [], []) for t in range(0, 6)]  # gone: ends at 9.5 + 2 = 11.5 s
    frames += [(13 + t * 0.5, [car], ["car"]) for t in range(0, 60)]  # back 13-42.5 s
    starts_at = {}
    for cooldown in (0, 30):
        rule = StationaryDwellRule("cam", ProblemClass.ILLEGAL_PARKING_MOTOR, frozenset({"car"}), [zone],
                                   StationaryRuleConfig(dwell_s=5, clear_s=2, cooldown_s=cooldown))
        events = [e for t, b, labels in frames for e in step(rule, t, b, labels, ids=[1] * len(b))]
        starts_at[cooldown] = [e.ts_s for e in events if e.state is EventState.START]
    assert starts_at[0] == [5.0, 18.0]  # back at 13 s, dwell 5 s
    assert starts_at[30] == [5.0, 41.5]  # quiet until 11.5 + 30 s
