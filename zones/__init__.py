"""The seven problem classes, zone geometry, and the rules that turn tracks into events."""

from zones.classes import CLASS_INFO, KIND_CLASSES, STATIONARY_EVIDENCE, ProblemClass, ZoneKind
from zones.config import StationaryRuleConfig, ZoneConfig
from zones.event import Event, EventState, episode_id
from zones.geometry import ZoneMap, anchor_points, normalise_boxes
from zones.rules import StationaryDwellRule

__all__ = [
    "CLASS_INFO",
    "KIND_CLASSES",
    "STATIONARY_EVIDENCE",
    "Event",
    "EventState",
    "ProblemClass",
    "StationaryDwellRule",
    "StationaryRuleConfig",
    "ZoneConfig",
    "ZoneKind",
    "ZoneMap",
    "anchor_points",
    "episode_id",
    "normalise_boxes",
]
