"""Which of the seven classes the configured models can see, and which they cannot.

A class no model gives evidence for is reported `none` and named, never silently "enabled".
`coverage_report` is pure; `coverage_for_config` describes the configured models from their
manifests or metadata without running them (the API never loads a model).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from detector.config import DetectorConfig
from models.registry import ModelInfo
from zones.classes import CLASS_INFO, EXTRA_CODES, Coverage, ProblemClass, RuleKind, class_coverage
from zones.readings import SCENE_RULES
from zones.scene import SceneBaseline

COVERAGE_ZH: dict[Coverage, str] = {Coverage.FULL: "完全", Coverage.PARTIAL: "部分", Coverage.NONE: "未覆盖"}


class EvidenceSource(BaseModel):
    """Labels of one model that show a class."""

    model: str
    primary: list[str] = Field(default_factory=list, description="Labels that name the problem itself.")
    proxy: list[str] = Field(default_factory=list, description="Labels that only hint at it.")


class ZoneLevelSource(BaseModel):
    """Zone-level evidence for a class: the segmenter's groups, or a zone classifier trained on the centre's labels."""

    kind: str = Field(description="segmenter or classifier")
    detail: str
    measured: str = Field(description="What it measured, and on which data (or that it was not measured here).")


# What the shared assets let us measure per class (docs/scene-and-classifiers.md, docs/evaluation.md).
SCENE_MEASURED: dict[ProblemClass, str] = {
    ProblemClass.STANDING_WATER: "flooded-street.jpg: 86 % water in the lower half; dry frames of 7 cameras at most "
                                 "13.5 % above their learned clear level (docs/scene-and-classifiers.md)",
    ProblemClass.EXPOSED_GARBAGE: "garbage-bag photos: the segmenter alone raised 0 of 60 (no false alert on 6 "
                                  "street clips); the garbage-bag model adds eyes (docs/models.md, docs/evaluation.md)",
    ProblemClass.OVERFLOWING_BIN: "bin photos: the segmenter alone raised 0 of 60; a zone classifier taught 20 labels "
                                  "of each kind: recall 0.90, precision 0.84 (docs/evaluation.md)",
}
NOT_MEASURED = ("not measured here: no labelled footage of this class on these machines; sharpens with the "
                "centre's labels")


class ClassCoverage(BaseModel):
    id: ProblemClass
    name_zh: str
    name_en: str
    department_zh: str
    department_en: str
    codes: dict[str, str] = Field(description="National standard codes (GB/T 47678.5-2026, GB/T 30428.2).")
    rule: RuleKind
    coverage: Coverage
    sources: list[EvidenceSource] = Field(default_factory=list, description="Which model, which labels.")
    zone_level: list[ZoneLevelSource] = Field(default_factory=list, description="Segmenter and zone classifiers.")
    missing_helpers: list[str] = Field(
        default_factory=list, description="Labels the rule also reads (the person on a bicycle) that no model gives."
    )


class ZoneClassState(BaseModel):
    """How far one zone's evidence for one class is taught: the worker computes it, the wall and the CLI show it.

    `learnt`: a zone classifier trained on `labels` of the centre's labels; `calibrated`: the segmenter has a
    clear level for every group the class reads, from `frames` clear frames (`sources` says how many came from
    a calibration, clear labels and the worker's own quiet frames); `uncalibrated`: neither, so only a
    flood-sized share (SCENE_RULES raw_share) raises it."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    camera_id: str
    zone_id: str
    problem: ProblemClass = Field(alias="class")
    state: Literal["uncalibrated", "calibrated", "learnt"]
    frames: int = Field(0, description="Clear frames behind the level (the fewest over the class's groups).")
    labels: int = Field(0, description="Labels behind the zone classifier.")
    sources: dict[str, int] = Field(default_factory=dict)
    levels: dict[str, float | None] = Field(default_factory=dict)


STATE_ZH = {"uncalibrated": "未校准", "calibrated": "已校准", "learnt": "已学习"}


def zone_class_states(camera_id: str, watched: Mapping[str, Iterable[ProblemClass]], baseline: SceneBaseline,
                      heads: Mapping[tuple[str, ProblemClass], int], scene: Iterable[ProblemClass],
                      min_samples: int) -> list[ZoneClassState]:
    """Per zone and watched class that zone-level evidence can show (`scene` classes, or a trained head)."""
    shown = set(scene)
    states = []
    for zone_id, classes in sorted(watched.items()):
        for problem in classes:
            labels = heads.get((zone_id, problem))
            if problem not in shown and labels is None:
                continue
            groups = SCENE_RULES[problem].groups if problem in SCENE_RULES and problem in shown else ()
            counts = {g: len(baseline.samples(zone_id, g)) for g in groups}
            frames = min(counts.values()) if counts else 0
            sources: dict[str, int] = {}
            for group in groups:
                for source, n in baseline.sources(zone_id, group).items():
                    sources[source] = max(sources.get(source, 0), n)
            state = "learnt" if labels else "calibrated" if groups and frames >= min_samples else "uncalibrated"
            states.append(ZoneClassState(camera_id=camera_id, zone_id=zone_id, problem=problem, state=state,
                                         frames=frames, labels=labels or 0, sources=sources,
                                         levels={g: baseline.level(zone_id, g) for g in groups}))
    return states


def describe_state(state: ZoneClassState | Mapping[str, Any]) -> str:
    """One zone and class in words, Chinese first: '已校准 calibrated (12 frames)'."""
    data = state.model_dump(by_alias=True) if isinstance(state, ZoneClassState) else state
    name = data.get("state", "uncalibrated")
    words = f"{STATE_ZH.get(name, name)} {name}"
    if name == "learnt":
        return f"{words} ({data.get('labels', 0)} labels)"
    if name == "calibrated":
        return f"{words} ({data.get('frames', 0)} frames)"
    return words


class CoverageReport(BaseModel):
    models: list[ModelInfo]
    classes: list[ClassCoverage]
    uncovered: list[ProblemClass] = Field(description="Classes no configured model can see: no rule raises them.")
    zones: list[ZoneClassState] = Field(default_factory=list, description="Per camera, zone and class: uncalibrated, "
                                        "calibrated (N frames) or learnt (N labels), as the workers report it.")


def _codes(problem: ProblemClass) -> dict[str, str]:
    info = CLASS_INFO[problem]
    codes = {"gbt_47678_5": info.code_gbt_47678_5, "gbt_30428_2": info.code_gbt_30428_2}
    return {k: v for k, v in codes.items() if v} | EXTRA_CODES.get(problem, {})


def coverage_report(model_labels: dict[str, set[str]]) -> list[ClassCoverage]:
    """Per class, in `ProblemClass` order: how well the models' evidence labels cover it and from where."""
    every = set().union(*model_labels.values()) if model_labels else set()
    report = []
    for problem in ProblemClass:
        info = CLASS_INFO[problem]
        sources = [
            EvidenceSource(model=name, primary=sorted(info.evidence.primary & labels),
                           proxy=sorted(info.evidence.proxy & labels))
            for name, labels in model_labels.items()
            if info.evidence.subject & labels
        ]
        level = class_coverage(problem, every)
        report.append(ClassCoverage(
            id=problem, name_zh=info.name_zh, name_en=info.name_en, department_zh=info.department_zh,
            department_en=info.department_en, codes=_codes(problem), rule=info.rule, coverage=level,
            sources=sources,
            missing_helpers=sorted(info.evidence.helpers - every) if level is not Coverage.NONE else [],
        ))
    return report


def report_for_models(models: list[ModelInfo], scene: Mapping[ProblemClass, str] | None = None,
                      heads: Sequence[Mapping[str, Any]] = ()) -> CoverageReport:
    """`scene`: classes the segmenter shows, with its groups; `heads`: zone classifiers the workers reported."""
    classes = coverage_report({m.name: set(m.evidence_labels) for m in models})
    for entry in classes:
        if scene and entry.id in scene:
            entry.zone_level.append(ZoneLevelSource(kind="segmenter", detail=scene[entry.id],
                                                    measured=SCENE_MEASURED.get(entry.id, NOT_MEASURED)))
        for head in heads:
            if head.get("class") == entry.id.value and head.get("trained"):
                accuracy = head.get("balanced_accuracy")
                entry.zone_level.append(ZoneLevelSource(
                    kind="classifier", detail=f"camera {head.get('camera_id')} zone {head.get('zone_id')}",
                    measured=f"{head.get('n_labels')} labels from the centre; balanced accuracy on held-back labels "
                             + (f"{accuracy:.2f}" if isinstance(accuracy, float) else "not yet measured")))
        if entry.zone_level and entry.coverage is Coverage.NONE:
            entry.coverage = Coverage.PARTIAL  # surfaces and states of a place, measured as the figures say
    return CoverageReport(models=models, classes=classes,
                          uncovered=[c.id for c in classes if c.coverage is Coverage.NONE])


def coverage_for_config(config: DetectorConfig | None, load: bool = False,
                        scene: Mapping[ProblemClass, str] | None = None,
                        heads: Sequence[Mapping[str, Any]] = ()) -> CoverageReport:
    """The report for a configuration's models (the default model for None), from manifests or metadata.

    With `load=False` a model whose labels only loading would reveal (a `.pt` without manifest)
    is listed with an `error` and covers nothing until it is given a manifest.
    """
    return report_for_models((config or DetectorConfig()).describe_models(load=load), scene, heads)
