"""Rule kinds: small stateful objects fed one frame at a time (`update`), each testable with
hand-made detections. `build_rules` picks the kind each class needs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from zones.classes import CLASS_INFO, ProblemClass, RuleKind
from zones.config import RuleParams, RulesConfig, ZoneConfig
from zones.context import FrameContext
from zones.event import Event
from zones.rules.cluster import StationaryClusterRule
from zones.rules.presence import PresenceRule
from zones.rules.stationary import StationaryDwellRule
from zones.rules.stillness import DEFAULT_LOST_S, StillObjectRule


class Rule(Protocol):
    problem: ProblemClass
    labels: frozenset[str]
    helper_labels: frozenset[str]

    @property
    def open_episodes(self) -> int: ...

    def update(self, ctx: FrameContext) -> list[Event]: ...

    def retarget(self, zones: Sequence[ZoneConfig], defaults: RuleParams, ts_s: float) -> list[Event]: ...

    def close(self, ts_s: float) -> list[Event]: ...


_KINDS = {
    RuleKind.STATIONARY_TRACK: StationaryDwellRule,
    RuleKind.STATIONARY_CLUSTER: StationaryClusterRule,
    RuleKind.PRESENCE: PresenceRule,
}


def build_rule(
    camera_id: str, problem: ProblemClass, zones: Sequence[ZoneConfig], rules: RulesConfig, labels: frozenset[str],
    lost_s: float = DEFAULT_LOST_S,
) -> Rule:
    """The rule for one class on one camera, reading only `labels` (the evidence the loaded models give).

    `lost_s` is the tracker's: rules that follow objects restart their dwell after a longer gap in the frames."""
    kind = _KINDS[CLASS_INFO[problem].rule]
    params = rules.for_class(problem)
    if issubclass(kind, StillObjectRule):
        return kind(camera_id, problem, labels, zones, params, lost_s=lost_s)  # type: ignore[arg-type]
    return kind(camera_id, problem, labels, zones, params)  # type: ignore[arg-type]


__all__ = ["PresenceRule", "Rule", "StationaryClusterRule", "StationaryDwellRule", "build_rule"]
