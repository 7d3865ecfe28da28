"""Cameras, their zones and the rule defaults a worker runs with."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from detector import DetectorConfig, TrackerConfig
from streams import SourceConfig
from zones import STATIONARY_EVIDENCE, ProblemClass, StationaryRuleConfig, ZoneConfig
from zones.config import parse_problem_class


class CameraConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    name: str | None = None
    source: SourceConfig
    zones: list[ZoneConfig] = Field(default_factory=list)

    @field_validator("zones")
    @classmethod
    def _unique_zone_ids(cls, zones: list[ZoneConfig]) -> list[ZoneConfig]:
        ids = [z.id for z in zones]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"zone ids must be unique per camera; repeated: {', '.join(duplicates)}")
        return zones


def _default_rules() -> dict[ProblemClass, StationaryRuleConfig]:
    return {problem: StationaryRuleConfig() for problem in STATIONARY_EVIDENCE}


class WorkerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    detector: DetectorConfig = Field(default_factory=DetectorConfig)
    tracker: TrackerConfig = Field(default_factory=TrackerConfig)
    rules: dict[ProblemClass, StationaryRuleConfig] = Field(default_factory=_default_rules)
    cameras: list[CameraConfig] = Field(default_factory=list)

    @field_validator("rules", mode="before")
    @classmethod
    def _rules_for_known_classes(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        rules = {}
        for key, params in value.items():
            problem = parse_problem_class(key)
            if problem not in STATIONARY_EVIDENCE:
                raise ValueError(f"class {problem.value!r} has no rule kind yet; configurable: "
                                 + ", ".join(p.value for p in STATIONARY_EVIDENCE))
            rules[problem] = params
        return rules

    @model_validator(mode="after")
    def _every_stationary_class_has_rule(self) -> WorkerConfig:
        for problem in STATIONARY_EVIDENCE:
            self.rules.setdefault(problem, StationaryRuleConfig())
        ids = [c.id for c in self.cameras]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"camera ids must be unique; repeated: {', '.join(duplicates)}")
        return self
