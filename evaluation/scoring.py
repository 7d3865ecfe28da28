"""Event-level scoring: of the labelled problems, how many became an alert, how soon, and how many alerts were false.

Pure functions over time spans, no video, so every rule of the score can be tested with hand-made lists.
The rules (also in docs/evaluation.md):

- A raised episode and a truth episode *overlap* when class and zone match, their closed time spans
  intersect, and, where the label marks a point on the object (`at`), the alert's box contains it.
  Matching is one-to-one per clip, greedily by largest overlap: three alerts for three parked cars are
  three hits.
- A raised episode that overlaps a truth episode but was not matched is a *duplicate*: not a false alert
  (precision counts it as correct), reported as duplicates per hit episode. One that overlaps none is false.
- A truth episode shorter than the class's dwell cannot raise an alert by design: it is *below dwell*,
  left out of recall, but an alert on it is not false either.
- Alert delay of a hit = raised start - (truth start + dwell).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from zones import Event, EventState, ProblemClass


@dataclass(frozen=True)
class Span:
    """A labelled or raised episode, reduced to what scoring needs."""

    problem: ProblemClass
    zone_id: str
    start_s: float
    end_s: float
    ref: str  # event id, or truth[i]
    at: tuple[float, float] | None = None  # truth: a normalised point on the object, when labelled
    box: tuple[float, float, float, float] | None = None  # raised: the normalised box the alert showed


class TruthStatus(StrEnum):
    HIT = "hit"
    MISSED = "missed"
    BELOW_DWELL = "below_dwell"


class RaisedStatus(StrEnum):
    HIT = "hit"
    DUPLICATE = "duplicate"
    FALSE = "false"


@dataclass
class ClipInput:
    """One replayed clip: its labels, what the pipeline raised, and the dwell each class ran with per zone."""

    name: str
    camera_id: str
    duration_s: float
    truth: list[Span]
    raised: list[Span]
    dwell_s: dict[tuple[ProblemClass, str], float]  # (class, zone id) -> least time before an alert can start
    watched: frozenset[ProblemClass] = frozenset()  # classes a rule ran for: they count camera time


@dataclass
class TruthResult:
    span: Span
    status: TruthStatus
    matched: str | None = None  # ref of the raised episode that hit it
    delay_s: float | None = None
    duplicates: list[str] = field(default_factory=list)


@dataclass
class RaisedResult:
    span: Span
    status: RaisedStatus
    truth: str | None = None  # ref of the truth episode it hit or duplicated
    delay_s: float | None = None


@dataclass
class ClipScore:
    clip: ClipInput
    truth: list[TruthResult]
    raised: list[RaisedResult]


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


@dataclass
class Counts:
    """Totals for one class or for everything; the rates are None where their denominator is zero."""

    episodes: int = 0  # alertable truth episodes (not below dwell)
    below_dwell: int = 0
    events: int = 0  # raised episodes, not single start/update/end messages
    hits: int = 0
    duplicates: int = 0
    false_alerts: int = 0
    camera_hours: float = 0.0
    delays_s: list[float] = field(default_factory=list)

    @property
    def missed(self) -> int:
        return self.episodes - self.hits

    @property
    def recall(self) -> float | None:
        return _ratio(self.hits, self.episodes)

    @property
    def precision(self) -> float | None:
        return _ratio(self.events - self.false_alerts, self.events)

    @property
    def f1(self) -> float | None:
        """Harmonic mean; 0 when one side is undefined and the other has something to count, None if both are."""
        recall, precision = self.recall, self.precision
        if recall is None and precision is None:
            return None
        if not recall or not precision:
            return 0.0
        return 2 * precision * recall / (precision + recall)

    @property
    def duplicates_per_episode(self) -> float | None:
        return _ratio(self.duplicates, self.hits)

    @property
    def false_alerts_per_camera_hour(self) -> float | None:
        return _ratio(self.false_alerts, self.camera_hours)

    def add(self, other: Counts) -> None:
        """Pool another total into this one; camera time is left to the caller, which knows what overlaps."""
        for name in ("episodes", "below_dwell", "events", "hits", "duplicates", "false_alerts"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.delays_s.extend(other.delays_s)

    def as_dict(self) -> dict[str, Any]:
        delays = self.delays_s
        return {
            "episodes": self.episodes, "below_dwell": self.below_dwell, "events": self.events, "hits": self.hits,
            "missed": self.missed, "duplicates": self.duplicates, "false_alerts": self.false_alerts,
            "recall": _round(self.recall), "precision": _round(self.precision), "f1": _round(self.f1),
            "alert_delay_s": {
                "mean": _round(statistics.fmean(delays) if delays else None),
                "median": _round(statistics.median(delays) if delays else None),
                "max": _round(max(delays) if delays else None),
            },
            "duplicates_per_episode": _round(self.duplicates_per_episode),
            "camera_hours": _round(self.camera_hours, 6),
            "false_alerts_per_camera_hour": _round(self.false_alerts_per_camera_hour),
        }


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


@dataclass
class Summary:
    clips: list[ClipScore]
    classes: dict[ProblemClass, Counts]
    overall: Counts


def spans_from_events(events: Iterable[Event]) -> list[Span]:
    """One span per episode (event id): from its start to the last time its `end` saw the problem."""
    first: dict[str, Event] = {}
    last_ts: dict[str, float] = {}
    end: dict[str, float] = {}
    for event in events:
        first.setdefault(event.event_id, event)
        last_ts[event.event_id] = max(last_ts.get(event.event_id, event.ts_s), event.ts_s)
        if event.state is EventState.END:
            end[event.event_id] = event.end_s if event.end_s is not None else event.ts_s
    return [
        Span(e.problem, e.zone_id, e.start_s, max(e.start_s, end.get(key, last_ts[key])), key, box=e.bbox)
        for key, e in first.items()
    ]


def _contains(box: tuple[float, float, float, float] | None, point: tuple[float, float] | None) -> bool:
    if box is None or point is None:
        return True
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def _overlap(raised: Span, truth: Span) -> float | None:
    """Length of the intersection of the two closed spans; None when they cannot match at all."""
    if raised.problem != truth.problem or raised.zone_id != truth.zone_id or not _contains(raised.box, truth.at):
        return None
    length = min(raised.end_s, truth.end_s) - max(raised.start_s, truth.start_s)
    return length if length >= 0 else None


def score_clip(clip: ClipInput) -> ClipScore:
    """Match raised episodes to truth episodes one-to-one, greedily by largest overlap."""
    dwell = [clip.dwell_s.get((t.problem, t.zone_id), 0.0) for t in clip.truth]
    alertable = [t.end_s - t.start_s >= d for t, d in zip(clip.truth, dwell, strict=True)]
    pairs = []
    for r, raised in enumerate(clip.raised):
        for t, truth in enumerate(clip.truth):
            overlap = _overlap(raised, truth)
            if overlap is not None:
                pairs.append((-overlap, not alertable[t], raised.start_s, truth.start_s, r, t))
    pairs.sort()
    truth_results = [
        TruthResult(t, TruthStatus.MISSED if ok else TruthStatus.BELOW_DWELL)
        for t, ok in zip(clip.truth, alertable, strict=True)
    ]
    raised_results: list[RaisedResult | None] = [None] * len(clip.raised)
    for *_, r, t in pairs:
        if raised_results[r] is not None or truth_results[t].matched is not None:
            continue
        raised, truth = clip.raised[r], clip.truth[t]
        delay = raised.start_s - (truth.start_s + dwell[t])
        raised_results[r] = RaisedResult(raised, RaisedStatus.HIT, truth.ref, delay)
        truth_results[t].matched = raised.ref
        if alertable[t]:
            truth_results[t].status, truth_results[t].delay_s = TruthStatus.HIT, delay
    for *_, r, t in pairs:  # best overlap first, so a duplicate is put on the episode it covers most
        if raised_results[r] is None:
            raised_results[r] = RaisedResult(clip.raised[r], RaisedStatus.DUPLICATE, clip.truth[t].ref)
            truth_results[t].duplicates.append(clip.raised[r].ref)
    final = [
        result or RaisedResult(span, RaisedStatus.FALSE)
        for result, span in zip(raised_results, clip.raised, strict=True)
    ]
    return ClipScore(clip, truth_results, final)


def clip_counts(score: ClipScore) -> dict[ProblemClass, Counts]:
    """Per-class totals of one clip; every watched class appears, so quiet cameras add camera time."""
    counts: dict[ProblemClass, Counts] = {}

    def of(problem: ProblemClass) -> Counts:
        return counts.setdefault(problem, Counts(camera_hours=score.clip.duration_s / 3600))

    for problem in score.clip.watched:
        of(problem)
    for truth in score.truth:
        c = of(truth.span.problem)
        if truth.status is TruthStatus.BELOW_DWELL:
            c.below_dwell += 1
            continue
        c.episodes += 1
        if truth.status is TruthStatus.HIT:
            c.hits += 1
            c.delays_s.append(truth.delay_s if truth.delay_s is not None else 0.0)
    for raised in score.raised:
        c = of(raised.span.problem)
        c.events += 1
        c.duplicates += raised.status is RaisedStatus.DUPLICATE
        c.false_alerts += raised.status is RaisedStatus.FALSE
    return counts


def summarise(scores: Sequence[ClipScore]) -> Summary:
    """Pool counts over clips, per class and overall (micro-averaged: every episode weighs the same)."""
    classes: dict[ProblemClass, Counts] = {}
    overall = Counts(camera_hours=sum(s.clip.duration_s for s in scores) / 3600)
    for score in scores:
        for problem, counts in clip_counts(score).items():
            total = classes.setdefault(problem, Counts())
            total.add(counts)
            total.camera_hours += counts.camera_hours
            overall.add(counts)
    return Summary(list(scores), dict(sorted(classes.items())), overall)
