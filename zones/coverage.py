"""Which of the seven classes the configured models can see, and which they cannot.

A class no model gives evidence for is reported `none` and named, never silently "enabled".
`coverage_report` is pure; `coverage_for_config` describes the configured models from their
manifests or metadata without running them (the API never loads a model).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

from detector.config import DetectorConfig
from models.registry import ModelInfo
from zones.classes import CLASS_INFO, EXTRA_CODES, Coverage, ProblemClass, RuleKind, class_coverage

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


class CoverageReport(BaseModel):
    models: list[ModelInfo]
    classes: list[ClassCoverage]
    uncovered: list[ProblemClass] = Field(description="Classes no configured model can see: no rule raises them.")


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
