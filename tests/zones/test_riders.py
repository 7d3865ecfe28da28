"""Rider exclusion that holds: a two-wheeler seen ridden stays ridden while its rider is hidden or missed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from detector import Detections
from settings import load_config
from worker import replay
from zones import EventState, ProblemClass, StationaryDwellRule, StationaryRuleConfig, ZoneConfig, ZoneMap
from zones.context import FrameContext
from zones.geometry import ridden_mask
from zones.verification import ZoneCheck

DATA = Path(__file__).resolve().parents[1] / "data"
FRAME = (1000, 1000)
PAVEMENT = ZoneConfig(id="pavement", kind="no_parking", polygon=[(0.0, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0)])
BIKE = [400.0, 600.0, 600.0, 800.0]
RIDER = [430.0, 450.0, 570.0, 780.0]  # head above the bike, legs down its side
DEFAULT_MEMORY_S = 60.0


def rule(**params: float) -> StationaryDwellRule:
    config = StationaryRuleConfig(**{"dwell_s": 5, "clear_s": 3, **params})
    return StationaryDwellRule("cam", ProblemClass.ILLEGAL_PARKING_NONMOTOR, frozenset({"motorcycle", "bicycle"}),
                               [PAVEMENT], config)


def starts(r: StationaryDwellRule, frames: list[tuple[float, list[list[float]], list[str], list[int]]]) -> list[float]:
    out = []
    for ts, boxes, labels, ids in frames:
        detections = Detections(np.array(boxes).reshape(-1, 4), [0.8] * len(boxes), labels, ids)
        out += [e.ts_s for e in r.update(FrameContext.build(ts, detections, ZoneMap([PAVEMENT]), FRAME))
                if e.state is EventState.START]
    return out


def bike_with(person: list[float] | None, ts: float) -> tuple[float, list[list[float]], list[str], list[int]]:
    if person is None:
        return (ts, [BIKE], ["bicycle"], [1])
    return (ts, [BIKE, person], ["bicycle", "person"], [1, 2])


class DropPeople:
    """The real detector, with the person boxes of some frames thrown away after detection (a pole, a miss):
    by default 6 frames in 8 (3 s in every 4 s), so the tracker still confirms a rider seen on two frames.

    Detections are kept from the first replay, so a second replay of the same clip sees the same boxes."""

    def __init__(self, detector, drop_every: int = 8, keep: int = 2) -> None:  # type: ignore[no-untyped-def]
        self.detector, self.labels = detector, detector.labels
        self.drop_every, self.keep = drop_every, keep
        self.recorded: list[list[Detections]] = []
        self.frame = 0

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.detector, name)  # the model's size and the rest, as the real detector has them

    def rewind(self) -> None:
        self.frame = 0

    def detect(self, images: list[np.ndarray]) -> list[Detections]:
        if self.frame == len(self.recorded):
            self.recorded.append(self.detector.detect(images))
        batch = self.recorded[self.frame]
        dropped = self.frame % self.drop_every >= self.keep
        self.frame += 1
        return [d[d.labels != "person"] for d in batch] if dropped else batch


def stopline(**params: float):  # type: ignore[no-untyped-def]
    config = load_config(DATA / "stopline.yaml")
    nonmotor = config.rules.illegal_parking_nonmotor.model_copy(update={"dwell_s": 5.0, **params})
    return config.model_copy(update={"rules": config.rules.model_copy(update={"illegal_parking_nonmotor": nonmotor})})


def test_stop_line_riders_missed_on_three_frames_in_four_are_still_riders(detector):  # type: ignore[no-untyped-def]
    dropping = DropPeople(detector)
    config = stopline()
    run = replay(config, config.cameras[0], lambda _events: None, None, dropping)
    assert run.frames >= 55
    assert [e for e in run.events if e.problem is ProblemClass.ILLEGAL_PARKING_NONMOTOR] == []
    # Deciding frame by frame (no memory) takes the waiting motorcycles for parked ones on the same boxes.
    dropping.rewind()
    config = stopline(ridden_memory_s=0.01)
    forgetful = replay(config, config.cameras[0], lambda _events: None, None, dropping)
    assert [e.problem for e in forgetful.events if e.state is EventState.START].count(
        ProblemClass.ILLEGAL_PARKING_NONMOTOR) >= 1


def test_a_bike_whose_rider_walked_away_parks_once_the_memory_has_passed():
    ridden = [bike_with(RIDER, t * 0.5) for t in range(20)]  # ridden 0 .. 9.5 s
    left = [bike_with(None, 10.0 + t * 0.5) for t in range(int((DEFAULT_MEMORY_S + 10) * 2))]
    # The rider was last over it at 9.5 s: ridden until 69.5 s, then the 5 s dwell from there.
    assert starts(rule(), ridden + left) == [9.5 + DEFAULT_MEMORY_S + 5.0]
    short = [bike_with(None, 10.0 + t * 0.5) for t in range(60)]
    assert starts(rule(ridden_memory_s=20), ridden + short) == [9.5 + 20.0 + 5.0]


def test_a_rider_hidden_on_most_frames_of_a_long_wait_is_still_riding():
    frames = [bike_with(RIDER if t % 10 == 0 else None, t * 0.5) for t in range(240)]  # seen every 5 s, 2 min
    assert starts(rule(), frames) == []
    assert starts(rule(exclude_ridden=False), frames) == [5.0]


def test_a_cut_or_shifted_rider_box_still_counts_as_riding():
    upper_half = [430.0, 450.0, 570.0, 615.0]  # legs hidden: the box ends just inside the bike's top
    shifted_up = [430.0, 380.0, 570.0, 660.0]  # the box rides high and stops above the bike's lower half
    for person in (upper_half, shifted_up):
        assert ridden_mask(np.array([BIKE]), np.array([person]))[0], person
        assert starts(rule(ridden_memory_s=1), [bike_with(person, t * 0.5) for t in range(30)]) == []
    # Seen head on, a pole hides the rider's left: what is left of the box is off the narrow bike's centre but
    # mostly over it.
    head_on, pole_cut = [470.0, 600.0, 530.0, 800.0], [500.0, 450.0, 620.0, 780.0]
    assert ridden_mask(np.array([head_on]), np.array([pole_cut]))[0]
    above = [450.0, 420.0, 550.0, 590.0]  # someone behind the bike, feet above its top: not on it
    beside = [650.0, 500.0, 720.0, 800.0]
    for person in (above, beside):
        assert not ridden_mask(np.array([BIKE]), np.array([person]))[0], person
        assert starts(rule(ridden_memory_s=1), [bike_with(person, t * 0.5) for t in range(30)]) == [5.0]


def test_a_person_moving_with_a_bike_rides_it_even_when_their_box_is_not_over_it():
    beside = [560.0, 450.0, 660.0, 790.0]  # overlaps the bike's right edge only: not a rider by geometry
    assert not ridden_mask(np.array([BIKE]), np.array([beside]))[0]
    frames = []
    for t in range(10):  # arrive together over 5 s, 40 px a frame
        dx = 40.0 * (t - 10)
        bike, person = [BIKE[0] + dx, 600.0, BIKE[2] + dx, 800.0], [beside[0] + dx, 450.0, beside[2] + dx, 790.0]
        frames.append((t * 0.5, [bike, person], ["bicycle", "person"], [1, 2]))
    frames += [bike_with(None, 5.0 + t * 0.5) for t in range(30)]  # stopped, the person unseen for 15 s
    assert starts(rule(), frames) == []
    alone = [(ts, boxes[:1], labels[:1], ids[:1]) for ts, boxes, labels, ids in frames]  # nobody with it
    assert starts(rule(), alone) == [10.0]


def test_the_camera_check_after_a_case_uses_the_same_rider_memory():
    params = StationaryRuleConfig(dwell_s=5, clear_s=3)
    check = ZoneCheck(ProblemClass.ILLEGAL_PARKING_NONMOTOR, PAVEMENT, params, frozenset({"bicycle"}), 20, 0.5)
    for t in range(20):
        _, boxes, labels, ids = bike_with(RIDER if t % 4 == 0 else None, t * 0.5)
        detections = Detections(np.array(boxes) / 1000.0, [0.8] * len(boxes), labels, ids)
        check.update(t * 0.5, detections, detections.xyxy.astype(np.float64), np.array([True] * len(boxes)))
    assert not check.result().present  # a rider seen one frame in four: nobody parked it
