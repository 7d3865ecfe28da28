"""Scoring rules on hand-made episode lists: hits, misses, false alerts, duplicates, wrong zone or class."""

from __future__ import annotations

import pytest

from evaluation.scoring import (
    ClipInput,
    RaisedStatus,
    Span,
    TruthStatus,
    score_clip,
    spans_from_events,
    summarise,
)
from zones import Event, EventState, ProblemClass, ZoneKind

MOTOR = ProblemClass.ILLEGAL_PARKING_MOTOR
NONMOTOR = ProblemClass.ILLEGAL_PARKING_NONMOTOR
DWELL = 15.0


def truth(zone: str, start: float, end: float, i: int, problem: ProblemClass = MOTOR, at=None) -> Span:  # type: ignore[no-untyped-def]
    return Span(problem, zone, start, end, f"truth[{i}]", at=at)


def raised(zone: str, start: float, end: float, ref: str, problem: ProblemClass = MOTOR, box=None) -> Span:  # type: ignore[no-untyped-def]
    return Span(problem, zone, start, end, ref, box=box)


def clip(truths: list[Span], alerts: list[Span], duration_s: float = 3600.0) -> ClipInput:
    zones = {s.zone_id for s in truths + alerts} | {"curb"}
    dwell = {(p, z): DWELL for p in (MOTOR, NONMOTOR) for z in zones}
    return ClipInput("clip", "cam-1", duration_s, truths, alerts, dwell, frozenset({MOTOR, NONMOTOR}))


def test_three_alerts_for_three_parked_cars_are_three_hits_with_their_delay():
    score = score_clip(clip(
        [truth("curb", 0, 70, 0), truth("curb", 0, 70, 1), truth("curb", 10, 70, 2)],
        [raised("curb", 17, 70, "a"), raised("curb", 18, 70, "b"), raised("curb", 27, 70, "c")],
    ))
    assert [t.status for t in score.truth] == [TruthStatus.HIT] * 3
    assert [r.status for r in score.raised] == [RaisedStatus.HIT] * 3
    assert {t.matched for t in score.truth} == {"a", "b", "c"}
    summary = summarise([score])
    counts = summary.classes[MOTOR]
    assert (counts.episodes, counts.events, counts.hits, counts.false_alerts, counts.duplicates) == (3, 3, 3, 0, 0)
    assert counts.recall == counts.precision == counts.f1 == 1.0
    # Delay = alert start - (episode start + dwell); the pairing among equal labels does not change the sum.
    assert sum(counts.delays_s) == pytest.approx((17 - 15) + (18 - 15) + (27 - 25))
    assert summary.overall.as_dict()["alert_delay_s"]["mean"] == pytest.approx(7 / 3, abs=1e-3)


def test_a_labelled_episode_without_alert_is_a_miss():
    score = score_clip(clip([truth("curb", 0, 60, 0), truth("curb", 5, 60, 1)], [raised("curb", 16, 60, "a")]))
    assert sorted(t.status for t in score.truth) == [TruthStatus.HIT, TruthStatus.MISSED]
    counts = summarise([score]).overall
    assert (counts.hits, counts.missed) == (1, 1)
    assert counts.recall == 0.5
    assert counts.precision == 1.0
    assert counts.f1 == pytest.approx(2 / 3)


def test_an_alert_without_labelled_episode_is_false_and_counted_per_camera_hour():
    score = score_clip(clip([truth("curb", 0, 60, 0)], [raised("curb", 16, 60, "a"), raised("curb", 100, 130, "b")],
                            duration_s=1800.0))
    assert [r.status for r in score.raised] == [RaisedStatus.HIT, RaisedStatus.FALSE]
    counts = summarise([score]).overall
    assert counts.false_alerts == 1
    assert counts.precision == 0.5
    assert counts.false_alerts_per_camera_hour == pytest.approx(2.0)  # one in half an hour


def test_a_second_alert_on_one_episode_is_a_duplicate_not_a_false_alert():
    score = score_clip(clip([truth("curb", 0, 100, 0)], [raised("curb", 16, 40, "a"), raised("curb", 60, 100, "b")]))
    # The longer overlap is the hit; the other is the duplicate, put on the same episode.
    assert [r.status for r in score.raised] == [RaisedStatus.DUPLICATE, RaisedStatus.HIT]
    assert score.truth[0].matched == "b"
    assert score.truth[0].duplicates == ["a"]
    assert score.truth[0].delay_s == pytest.approx(60 - 15)
    counts = summarise([score]).overall
    assert (counts.hits, counts.duplicates, counts.false_alerts) == (1, 1, 0)
    assert counts.precision == 1.0
    assert counts.duplicates_per_episode == 1.0


def test_an_alert_in_the_wrong_zone_is_false_and_the_episode_is_missed():
    score = score_clip(clip([truth("curb", 0, 60, 0)], [raised("carriageway", 16, 60, "a")]))
    assert score.truth[0].status is TruthStatus.MISSED
    assert score.raised[0].status is RaisedStatus.FALSE
    counts = summarise([score]).overall
    assert (counts.recall, counts.precision, counts.f1) == (0.0, 0.0, 0.0)


def test_an_alert_of_the_wrong_class_is_false_for_its_own_class():
    score = score_clip(clip([truth("curb", 0, 60, 0)], [raised("curb", 16, 60, "a", problem=NONMOTOR)]))
    assert score.raised[0].status is RaisedStatus.FALSE
    summary = summarise([score])
    assert summary.classes[MOTOR].missed == 1 and summary.classes[MOTOR].events == 0
    assert summary.classes[NONMOTOR].false_alerts == 1 and summary.classes[NONMOTOR].episodes == 0
    assert summary.classes[NONMOTOR].recall is None
    assert summary.classes[NONMOTOR].precision == 0.0


def test_an_alert_after_the_episode_ended_does_not_hit_it():
    score = score_clip(clip([truth("curb", 0, 30, 0)], [raised("curb", 31, 60, "a")]))
    assert score.truth[0].status is TruthStatus.MISSED
    assert score.raised[0].status is RaisedStatus.FALSE


def test_matching_is_one_to_one_by_largest_overlap():
    # The alert overlaps A by 5 s and B by 75 s: it hits B, and A is missed rather than hit twice.
    score = score_clip(clip([truth("curb", 0, 30, 0), truth("curb", 20, 100, 1)], [raised("curb", 25, 100, "x")]))
    assert [t.status for t in score.truth] == [TruthStatus.MISSED, TruthStatus.HIT]
    assert score.raised[0].truth == "truth[1]"


def test_a_labelled_point_pairs_each_alert_with_its_own_vehicle():
    left, right = (0.1, 0.1, 0.3, 0.3), (0.6, 0.1, 0.9, 0.3)
    score = score_clip(clip(
        [truth("curb", 0, 60, 0, at=(0.2, 0.2)), truth("curb", 0, 60, 1, at=(0.7, 0.2))],
        [raised("curb", 16, 60, "on-right", box=right), raised("curb", 30, 60, "on-left", box=left),
         raised("curb", 16, 60, "elsewhere", box=(0.4, 0.5, 0.5, 0.6))],
    ))
    assert [t.matched for t in score.truth] == ["on-left", "on-right"]
    assert [r.status for r in score.raised] == [RaisedStatus.HIT, RaisedStatus.HIT, RaisedStatus.FALSE]


def test_an_episode_shorter_than_the_dwell_is_left_out_of_recall_but_its_alert_is_not_false():
    score = score_clip(clip([truth("curb", 0, 7.5, 0), truth("curb", 10, 60, 1)], [raised("curb", 5, 7, "early")]))
    assert score.truth[0].status is TruthStatus.BELOW_DWELL
    assert score.raised[0].status is RaisedStatus.HIT
    counts = summarise([score]).overall
    assert (counts.episodes, counts.below_dwell, counts.hits, counts.false_alerts) == (1, 1, 0, 0)
    assert counts.precision == 1.0 and counts.recall == 0.0


def test_f1_is_undefined_only_when_there_is_nothing_to_count():
    quiet = summarise([score_clip(clip([], []))]).overall
    assert quiet.f1 is None and quiet.recall is None and quiet.precision is None
    assert quiet.false_alerts_per_camera_hour == 0.0
    blind = summarise([score_clip(clip([truth("curb", 0, 60, 0)], []))]).overall
    assert blind.f1 == 0.0 and blind.precision is None


def test_counts_pool_over_clips_and_camera_time_adds_up():
    first = score_clip(clip([truth("curb", 0, 60, 0)], [raised("curb", 16, 60, "a")], duration_s=1800.0))
    second = score_clip(clip([], [raised("curb", 16, 60, "b")], duration_s=1800.0))
    summary = summarise([first, second])
    assert summary.overall.camera_hours == pytest.approx(1.0)
    assert summary.classes[MOTOR].camera_hours == pytest.approx(1.0)
    assert (summary.overall.events, summary.overall.hits, summary.overall.false_alerts) == (2, 1, 1)
    assert summary.overall.false_alerts_per_camera_hour == pytest.approx(1.0)
    assert summary.overall.f1 == pytest.approx(2 / 3)


def _event(event_id: str, state: EventState, ts: float, end: float | None = None) -> Event:
    return Event(
        event_id=event_id, problem=MOTOR, camera_id="cam-1", zone_id="curb", zone_kind=ZoneKind.NO_PARKING,
        state=state, start_s=17.0, ts_s=ts, end_s=end, since_s=2.0, confidence=0.6,
        bbox=(0.1, 0.2, 0.3, 0.4), label="car", track_id=1,
    )


def test_an_episode_spans_from_its_start_to_the_last_sighting_of_its_end_event():
    spans = spans_from_events([
        _event("e1", EventState.START, 17.0), _event("e1", EventState.UPDATE, 37.0),
        _event("e1", EventState.END, 75.0, end=65.0), _event("e2", EventState.START, 17.0),
        _event("e2", EventState.UPDATE, 40.0),
    ])
    assert [(s.ref, s.start_s, s.end_s) for s in spans] == [("e1", 17.0, 65.0), ("e2", 17.0, 40.0)]
    assert spans[0].box == (0.1, 0.2, 0.3, 0.4)
