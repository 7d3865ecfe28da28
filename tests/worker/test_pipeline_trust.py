"""The residential clip through a camera's pipeline, real detector and tracker: after an outage longer than
`lost_s` the parked cars' dwell starts again; a short one keeps it; a rule that fails costs no other rule its
events, and says so once."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from settings import load_config
from streams import open_source
from tests.e2e.conftest import DATA
from worker import CameraPipeline
from zones import Event, EventState

RESUME_AT = 10.0  # the camera is out after this frame, then comes back on the same street


@pytest.fixture(scope="module")
def played(detector):  # type: ignore[no-untyped-def]
    settings = load_config(DATA / "residential.yaml")
    frames = list(open_source("resi-1", settings.cameras[0].source))
    return settings, list(zip(frames, detector.detect([f.image for f in frames]), strict=True)), frozenset(
        detector.labels)


def play(played, outage_s: float = 0.0, pipeline: CameraPipeline | None = None) -> list[Event]:  # type: ignore
    """Every event of the clip; with `outage_s`, frame time jumps that far after RESUME_AT (nothing was sent)."""
    settings, frames, labels = played
    pipeline = pipeline or CameraPipeline(settings.cameras[0], settings.rules, settings.tracker, labels)
    events: list[Event] = []
    for frame, detections in frames:
        shifted = replace(frame, ts_s=frame.ts_s + outage_s) if frame.ts_s > RESUME_AT else frame
        events += pipeline.process(shifted, detections)
    return events


def far_curb_starts(events: list[Event]) -> list[Event]:
    return [e for e in events if e.zone_id == "far-curb" and e.state is EventState.START]


def test_an_outage_longer_than_lost_s_starts_the_parked_cars_dwell_again(played):  # type: ignore[no-untyped-def]
    settings = played[0]
    dwell, lost = settings.rules.illegal_parking_motor.dwell_s, settings.tracker.lost_s
    plain = far_curb_starts(play(played))
    assert len(plain) >= 3 and min(e.ts_s for e in plain) < RESUME_AT + dwell  # parked from the first frame
    out = 3 * lost
    after = far_curb_starts(play(played, outage_s=out))
    assert len(after) >= 3
    back = RESUME_AT + out  # first frame time after the outage, give or take one frame
    assert min(e.ts_s for e in after) >= back + dwell - 0.5  # a whole dwell watched after it, none at the old time
    assert min(e.since_s for e in after) >= back


def test_a_short_outage_keeps_the_dwell(played):  # type: ignore[no-untyped-def]
    lost = played[0].tracker.lost_s
    plain = far_curb_starts(play(played))
    short = far_curb_starts(play(played, outage_s=lost / 2))
    assert sorted(e.since_s for e in short) == sorted(e.since_s for e in plain)


class Failing:
    """A rule that breaks on every frame, as a bug or a bad setting would."""

    def __init__(self, rule) -> None:  # type: ignore[no-untyped-def]
        self.rule, self.problem = rule, rule.problem
        self.labels, self.helper_labels = rule.labels, rule.helper_labels

    def update(self, ctx) -> list[Event]:  # type: ignore[no-untyped-def]
        raise RuntimeError("broken on purpose")

    def close(self, ts_s: float) -> list[Event]:
        return []


def test_a_failing_rule_costs_the_other_rules_nothing_and_is_logged_once(played, caplog):  # type: ignore
    settings, _, labels = played
    expected = [(e.zone_id, e.state, e.ts_s, e.track_id) for e in play(played)]
    pipeline = CameraPipeline(settings.cameras[0], settings.rules, settings.tracker, labels)
    assert [r.problem.value for r in pipeline.rules] == ["illegal_parking_motor", "illegal_parking_nonmotor"]
    pipeline.rules.insert(0, Failing(pipeline.rules.pop(1)))  # runs first on every frame, then the parking rule
    with caplog.at_level(logging.ERROR, logger="worker.pipeline"):
        events = play(played, pipeline=pipeline)
    assert [(e.zone_id, e.state, e.ts_s, e.track_id) for e in events] == expected and expected
    assert pipeline.rule_failures == {"illegal_parking_nonmotor/-": len(played[1])}
    logged = [r for r in caplog.records if "illegal_parking_nonmotor failed" in r.getMessage()]
    assert len(logged) == 1 and "broken on purpose" in logged[0].getMessage()


def test_an_event_a_zone_cannot_carry_is_counted_under_that_zone(played):  # type: ignore[no-untyped-def]
    """A zone that skipped the checks (a row saved before they existed): its failure names the zone."""
    settings, _, labels = played
    camera = settings.cameras[0]
    far, *others = camera.zones
    unchecked = far.model_construct(**{**far.__dict__, "name": "远" * 200})
    camera = camera.model_copy(update={"zones": [unchecked, *others]})
    pipeline = CameraPipeline(camera, settings.rules, settings.tracker, labels)
    events = play(played, pipeline=pipeline)
    assert pipeline.rule_failures["illegal_parking_motor/far-curb"] >= 1
    assert not [e for e in events if e.zone_id == "far-curb"]
