"""The seven problem classes, zone geometry, and the rules that turn tracks into events."""

from zones.classes import (
    CLASS_INFO,
    KIND_CLASSES,
    Coverage,
    ProblemClass,
    RuleKind,
    ZoneKind,
    class_coverage,
)
from zones.config import (
    ClusterRuleConfig,
    PresenceRuleConfig,
    RulesConfig,
    ScheduleWindow,
    StationaryRuleConfig,
    ZoneConfig,
    ZoneOverride,
)
from zones.event import Event, EventState, episode_id
from zones.geometry import ZoneMap, anchor_points, normalise_boxes
from zones.rules import PresenceRule, Rule, StationaryClusterRule, StationaryDwellRule, build_rule

__all__ = [
    "CLASS_INFO",
    "KIND_CLASSES",
    "ClusterRuleConfig",
    "Coverage",
    "Event",
    "EventState",
    "PresenceRule",
    "PresenceRuleConfig",
    "ProblemClass",
    "Rule",
    "RuleKind",
    "RulesConfig",
    "ScheduleWindow",
    "StationaryClusterRule",
    "StationaryDwellRule",
    "StationaryRuleConfig",
    "ZoneConfig",
    "ZoneKind",
    "ZoneMap",
    "ZoneOverride",
    "anchor_points",
    "build_rule",
    "class_coverage",
    "episode_id",
    "normalise_boxes",
]
