"""Zone-level evidence: what the scene segmenter and the zone classifiers say about a whole zone, beside the
detector's boxes, and when that counts as the problem.

Detector boxes name objects; some problems are surfaces or states of a place (water on a road, a bin full to
the brim, a stall's awning). The segmenter measures the share of a zone in each ADE20K class group and how far
it stands above the zone's level on frames the centre marked clear (zones/scene.py); a zone classifier trained
on the centre's own labels gives a probability (zones/classifier.py). Every reason is kept in words, so that a
dispatcher sees why an alert fired.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from zones.classes import ProblemClass
from zones.scene import GroupReading


@dataclass(frozen=True)
class SceneRule:
    """A class shows in a zone when one of `groups` stands `min_excess` above the zone's clear level (or, while
    the zone has no level yet, covers `raw_share` of it), with `context` covering at least `min_context`."""

    groups: tuple[str, ...]
    min_excess: float
    raw_share: float
    context: str | None = None
    min_context: float = 0.0


SCENE_RULES: dict[ProblemClass, SceneRule] = {
    # Without a clear level only a flood shows: dry asphalt reads up to 66 % "water" on some cameras.
    ProblemClass.STANDING_WATER: SceneRule(("water",), min_excess=0.20, raw_share=0.80),
    ProblemClass.STREET_VENDING: SceneRule(("stall",), min_excess=0.10, raw_share=0.35),
    ProblemClass.OUTSIDE_STORE_BUSINESS: SceneRule(("stall", "goods"), min_excess=0.10, raw_share=0.35),
    ProblemClass.EXPOSED_GARBAGE: SceneRule(("bags_boxes",), min_excess=0.05, raw_share=0.25),
    ProblemClass.OVERFLOWING_BIN: SceneRule(("bags_boxes",), min_excess=0.05, raw_share=0.25, context="ashcan",
                                            min_context=0.02),
}
GROUP_NAMES_ZH = {"water": "积水", "stall": "摊位/遮阳棚", "goods": "货物", "bags_boxes": "袋/箱", "ashcan": "垃圾桶"}
HEAD_THRESHOLD = 0.5


@dataclass(frozen=True)
class ZoneReading:
    """One zone's latest zone-level measurements (kept until the next one, a few seconds later)."""

    at_s: float
    scene: Mapping[str, GroupReading] = field(default_factory=dict)
    scores: Mapping[ProblemClass, float] = field(default_factory=dict)  # zone classifier probabilities
    labels_used: Mapping[ProblemClass, int] = field(default_factory=dict)  # labels behind each classifier


def scene_reason(problem: ProblemClass, scene: Mapping[str, GroupReading]) -> str | None:
    """Why the scene shows the class in this zone, or None when it does not."""
    rule = SCENE_RULES.get(problem)
    if rule is None:
        return None
    if rule.context is not None:
        context = scene.get(rule.context)
        if context is None or context.share < rule.min_context:
            return None
    for group in rule.groups:
        seen = scene.get(group)
        if seen is None:
            continue
        excess = seen.excess
        name = f"{GROUP_NAMES_ZH.get(group, group)} {group}"
        if excess is not None and excess >= rule.min_excess:
            return f"分割 segmenter: {name} {seen.share:.0%} of zone (clear level {seen.level:.0%})"
        if excess is None and seen.share >= rule.raw_share:
            return f"分割 segmenter: {name} {seen.share:.0%} of zone (no clear level yet)"
    return None


def classifier_reason(problem: ProblemClass, evidence: ZoneReading) -> str | None:
    score = evidence.scores.get(problem)
    if score is None or score < HEAD_THRESHOLD:
        return None
    labels = evidence.labels_used.get(problem)
    return f"分类器 classifier: {problem.value} {score:.2f}" + (f" ({labels} labels)" if labels else "")


def zone_reasons(problem: ProblemClass, evidence: ZoneReading | None) -> list[str]:
    """Every zone-level reason the class shows in the zone now (empty: none)."""
    if evidence is None:
        return []
    return [reason for reason in (scene_reason(problem, evidence.scene), classifier_reason(problem, evidence))
            if reason is not None]
