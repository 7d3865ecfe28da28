"""Zone-level evidence in the rules, frame by frame: when the segmenter's shares and a zone classifier's score
count as a class, how presence and cluster rules raise on them alone, and the reasons an event carries."""

from __future__ import annotations

import numpy as np
import pytest

from detector import Detections
from zones import (
    ClusterRuleConfig,
    EventState,
    PresenceRule,
    PresenceRuleConfig,
    ProblemClass,
    StationaryClusterRule,
    ZoneConfig,
    ZoneMap,
)
from zones.context import FrameContext
from zones.readings import ZoneReading, classifier_reason, scene_reason, zone_reasons
from zones.scene import GroupReading

FRAME = (1000, 1000)
LOWER_HALF = [(0.0, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0)]
ROAD = ZoneConfig(id="road", kind="road", polygon=LOWER_HALF)
PAVEMENT = ZoneConfig(id="pavement", kind="no_vending", polygon=LOWER_HALF)
PERSON = [450.0, 600.0, 520.0, 900.0]


def groups(**shares: tuple[float, float | None]) -> dict[str, GroupReading]:
    return {name: GroupReading(share, level) for name, (share, level) in shares.items()}


@pytest.mark.parametrize(("scene", "expected"), [
    (groups(water=(0.50, 0.10)), "积水 water 50% of zone (clear level 10%)"),
    (groups(water=(0.25, 0.10)), None),  # 15 points over its clear level: wet asphalt, not a pool
    (groups(water=(0.85, None)), "积水 water 85% of zone (no clear level yet)"),
    (groups(water=(0.66, None)), None),  # dry asphalt reads this much on some cameras
    (groups(), None),
])
def test_water_counts_above_the_zones_clear_level_or_as_a_flood_without_one(scene, expected):
    reason = scene_reason(ProblemClass.STANDING_WATER, scene)
    assert (reason is None) if expected is None else (expected in reason and reason.startswith("分割 segmenter"))


def test_bags_count_as_an_overflowing_bin_only_beside_a_bin():
    bags = groups(bags_boxes=(0.30, None))
    assert scene_reason(ProblemClass.OVERFLOWING_BIN, bags) is None
    assert scene_reason(ProblemClass.OVERFLOWING_BIN, {**bags, **groups(ashcan=(0.05, None))}) is not None
    assert scene_reason(ProblemClass.EXPOSED_GARBAGE, bags) is not None  # no bin needed for garbage
    assert scene_reason(ProblemClass.ILLEGAL_PARKING_MOTOR, groups(water=(1.0, None))) is None  # no scene rule


def test_a_zone_classifier_counts_from_one_half_and_says_how_many_labels_taught_it():
    evidence = ZoneReading(5.0, {}, {ProblemClass.OVERFLOWING_BIN: 0.8}, {ProblemClass.OVERFLOWING_BIN: 24})
    assert classifier_reason(ProblemClass.OVERFLOWING_BIN, evidence) == "分类器 classifier: overflowing_bin 0.80 " \
                                                                        "(24 labels)"
    low = ZoneReading(5.0, {}, {ProblemClass.OVERFLOWING_BIN: 0.3})
    assert classifier_reason(ProblemClass.OVERFLOWING_BIN, low) is None
    assert zone_reasons(ProblemClass.OVERFLOWING_BIN, None) == []
    both = ZoneReading(5.0, groups(bags_boxes=(0.4, 0.1), ashcan=(0.1, 0.1)), evidence.scores, evidence.labels_used)
    assert [r.split(":")[0] for r in zone_reasons(ProblemClass.OVERFLOWING_BIN, both)] == ["分割 segmenter",
                                                                                        "分类器 classifier"]


def frame(rule, ts: float, evidence: ZoneReading | None, zone: ZoneConfig, boxes=(), labels=()):  # type: ignore[no-untyped-def]
    detections = Detections(np.array(boxes, dtype=float).reshape(-1, 4), [0.8] * len(boxes), list(labels),
                            list(range(1, len(boxes) + 1)))
    return rule.update(FrameContext.build(ts, detections, ZoneMap([zone]), FRAME,
                                          zone_readings={zone.id: evidence} if evidence else {}))


def water_rule() -> PresenceRule:
    params = PresenceRuleConfig(window_s=10, p_on=0.6, p_off=0.15, update_every_s=100)
    return PresenceRule("cam", ProblemClass.STANDING_WATER, frozenset({"standing_water"}), [ROAD], params)


def test_water_the_detector_cannot_see_raises_on_the_segmenter_alone_and_says_so():
    rule, wet = water_rule(), ZoneReading(0.0, groups(water=(0.55, 0.05)))
    events = [e for t in range(0, 21) for e in frame(rule, float(t), wet, ROAD)]
    events += [e for t in range(21, 41) for e in frame(rule, float(t), ZoneReading(t, groups(water=(0.06, 0.05))),
                                                        ROAD)]
    assert [(e.ts_s, e.state) for e in events] == [(10.0, EventState.START), (30.0, EventState.END)]
    start = events[0]
    assert start.label == "zone evidence" and start.bbox == pytest.approx((0.0, 0.5, 1.0, 1.0))
    assert len(start.reasons) == 1 and "积水 water 55% of zone (clear level 5%)" in start.reasons[0]


def test_a_detector_box_comes_first_among_the_reasons_and_gives_the_place():
    rule, wet = water_rule(), ZoneReading(0.0, groups(water=(0.55, 0.05)))
    puddle = [300.0, 700.0, 600.0, 800.0]
    events = [e for t in range(0, 11) for e in frame(rule, float(t), wet, ROAD, [puddle], ["standing_water"])]
    assert events[0].reasons[0].startswith("检测 detector") and events[0].reasons[1].startswith("分割 segmenter")
    assert events[0].bbox == pytest.approx((0.3, 0.7, 0.6, 0.8))


def vending_rule() -> StationaryClusterRule:
    params = ClusterRuleConfig(dwell_s=10, clear_s=4, person_ratio=0.5, update_every_s=100)
    return StationaryClusterRule("cam", ProblemClass.STREET_VENDING, frozenset({"umbrella"}), [PAVEMENT], params)


def test_a_stall_the_segmenter_sees_is_vending_only_while_someone_tends_it():
    stall = ZoneReading(0.0, groups(stall=(0.45, 0.02)))
    unattended = [e for t in range(0, 60) for e in frame(vending_rule(), t * 0.5, stall, PAVEMENT)]
    assert unattended == []  # a shuttered kiosk's awning all night is not vending
    rule = vending_rule()
    tended = [e for t in range(0, 30) for e in frame(rule, t * 0.5, stall, PAVEMENT, [PERSON], ["person"])]
    assert [(e.ts_s, e.state) for e in tended] == [(10.0, EventState.START)]
    assert any("摊位/遮阳棚 stall 45%" in r for r in tended[0].reasons)
    assert "检测 detector: 1 person in the zone" in tended[0].reasons
    gone = [e for t in range(30, 50) for e in frame(rule, t * 0.5, ZoneReading(t, {}), PAVEMENT)]
    assert [e.state for e in gone] == [EventState.END]


@pytest.mark.parametrize("step", [2.0, 2.1, 3.7])
def test_a_slow_camera_raises_once_it_has_watched_a_whole_window(step: float):
    """Frames farther apart than the window's remainder never span it exactly: watching it is what counts."""
    rule, wet = water_rule(), ZoneReading(0.0, groups(water=(0.55, 0.05)))
    times = [round(i * step, 3) for i in range(12)]
    starts = [e.ts_s for t in times for e in frame(rule, t, wet, ROAD) if e.state is EventState.START]
    assert starts == [next(t for t in times if t >= 10.0)]


def test_a_gap_longer_than_the_window_starts_the_watch_afresh():
    rule, wet = water_rule(), ZoneReading(0.0, groups(water=(0.55, 0.05)))
    assert [e for t in (0.0, 1.0) for e in frame(rule, t, wet, ROAD)] == []
    back = [(t, e.state) for t in (100.0, 105.0, 110.0) for e in frame(rule, t, wet, ROAD)]
    assert back == [(110.0, EventState.START)]  # not on the first frame after the camera came back
