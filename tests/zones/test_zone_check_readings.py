"""A camera check of a class the zone readings show counts those readings, only ones taken since it opened, and
waits for the first such reading before its window runs (a batch already measured cannot cut it short)."""

from __future__ import annotations

import numpy as np

from detector import Detections
from zones import ProblemClass, RulesConfig, ZoneConfig
from zones.readings import ZoneReading
from zones.scene import GroupReading
from zones.verification import ZoneCheck

STREET = ZoneConfig(id="street", kind="road", classes=["standing_water"],
                    polygon=[(0.0, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0)])
FLOODED = {"water": GroupReading(0.86, None)}  # 86 % of the zone, no clear level yet: a flood
NOTHING = Detections.empty()


def _check(expects_reading: bool) -> ZoneCheck:
    params = STREET.params_for(ProblemClass.STANDING_WATER, RulesConfig.model_validate({}).for_class(
        ProblemClass.STANDING_WATER))
    return ZoneCheck(ProblemClass.STANDING_WATER, STREET, params, frozenset(), frames=4, present_share=0.5,
                     expects_reading=expects_reading)


def _feed(check: ZoneCheck, ts: float, reading: ZoneReading | None) -> None:
    check.update(ts, NOTHING, np.zeros((0, 4)), np.zeros(0, dtype=bool), reading)


def test_a_reading_from_before_the_check_never_counts_and_the_window_waits_for_a_fresh_one():
    check = _check(expects_reading=True)
    stale = ZoneReading(9.0, FLOODED)  # taken before the case was resolved
    for ts in (10.0, 10.5, 11.0):  # the frames of a batch measured before the check opened
        _feed(check, ts, stale)
    assert check.seen == 0 and check.waited == 3
    fresh = ZoneReading(11.5, FLOODED)
    for ts in (11.5, 12.0, 12.5, 13.0):
        _feed(check, ts, fresh)
    outcome = check.result()
    assert check.done and outcome.frames == 4 and outcome.present_frames == 4 and outcome.present
    assert outcome.first_ts_s == 11.5 and "segmenter" in outcome.reasons[0]


def test_without_readings_the_check_runs_on_the_detector_alone_after_waiting_its_length():
    check = _check(expects_reading=True)
    for ts in np.arange(10.0, 14.0, 0.5):
        _feed(check, float(ts), None)
    outcome = check.result()
    assert check.waited == 4 and outcome.frames == 4 and not outcome.present


def test_a_check_that_expects_no_reading_counts_from_its_first_frame_and_ignores_stale_ones():
    check = _check(expects_reading=False)
    for ts in (10.0, 10.5, 11.0, 11.5):
        _feed(check, ts, ZoneReading(9.0, FLOODED))
    outcome = check.result()
    assert outcome.frames == 4 and outcome.present_frames == 0 and not outcome.present
