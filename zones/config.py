"""Zones drawn on a camera image and the parameters of the rules that watch them."""

from __future__ import annotations

from typing import Literal

import shapely
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from shapely.validation import explain_validity

from zones.classes import HIGH_PRIORITY_KINDS, KIND_CLASSES, ProblemClass, ZoneKind

Priority = Literal["high", "normal", "low"]


def parse_problem_class(value: object) -> ProblemClass:
    try:
        return ProblemClass(value)
    except ValueError:
        known = ", ".join(c.value for c in ProblemClass)
        raise ValueError(f"unknown class {value!r}; known classes: {known}") from None


class ZoneConfig(BaseModel):
    """A polygon in normalised image coordinates (0..1), so it survives a resolution change."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    name: str | None = Field(None, description="What staff call it, e.g. 实验小学南门.")
    kind: ZoneKind
    polygon: list[tuple[float, float]]
    classes: list[ProblemClass] = Field(
        default_factory=list, description="Watched classes; empty means every class the kind allows."
    )
    priority: Priority | None = Field(None, description="Default: high in school and hospital zones.")
    grid: str | None = Field(None, description="The grid (网格) responsible for this area.")

    @field_validator("classes", mode="before")
    @classmethod
    def _known_classes(cls, value: object) -> object:
        if isinstance(value, list):
            return [parse_problem_class(v) for v in value]
        return value

    @field_validator("polygon")
    @classmethod
    def _valid_polygon(cls, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if len(points) < 3:
            raise ValueError(f"a polygon needs at least 3 points, got {len(points)}")
        outside = [p for p in points if not (0.0 <= p[0] <= 1.0 and 0.0 <= p[1] <= 1.0)]
        if outside:
            raise ValueError(
                f"coordinates must be normalised to 0..1 (fractions of width and height); outside: {outside}"
            )
        polygon = shapely.Polygon(points)
        if not polygon.is_valid:
            raise ValueError(f"polygon is not simple (edges cross or touch): {explain_validity(polygon)}")
        if polygon.area <= 0:
            raise ValueError("polygon has no area")
        return points

    @model_validator(mode="after")
    def _defaults_from_kind(self) -> ZoneConfig:
        if not self.classes:
            self.classes = list(KIND_CLASSES[self.kind])
        if self.priority is None:
            self.priority = "high" if self.kind in HIGH_PRIORITY_KINDS else "normal"
        return self


class StationaryRuleConfig(BaseModel):
    """A tracked object that stays still inside a zone for `dwell_s` is a problem."""

    model_config = ConfigDict(extra="forbid")

    dwell_s: float = Field(180.0, gt=0, description="Seconds still in the zone before an event starts.")
    clear_s: float = Field(30.0, gt=0, description="Seconds gone before the event ends.")
    min_confidence: float = Field(0.3, ge=0.0, le=1.0)
    min_area: float = Field(0.002, ge=0.0, lt=1.0, description="Smallest box, as a fraction of the frame.")
    max_shift: float = Field(
        0.25, gt=0.0, description="Largest movement of the box centre, as a fraction of the box size."
    )
    update_every_s: float = Field(60.0, gt=0, description="Seconds between `update` events of one episode.")
