"""Zones drawn on a camera image and the parameters of the rules that watch them."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, Literal

import shapely
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from shapely.validation import explain_validity

from zones.classes import CLASS_INFO, HIGH_PRIORITY_KINDS, KIND_CLASSES, ProblemClass, RuleKind, ZoneKind
from zones.event import GridName, ZoneName

Priority = Literal["high", "normal", "low"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_problem_class(value: object) -> ProblemClass:
    try:
        return ProblemClass(value)
    except ValueError:
        known = ", ".join(c.value for c in ProblemClass)
        raise ValueError(f"unknown class {value!r}; known classes: {known}") from None


class RuleParams(BaseModel):
    """What every rule kind shares. Each kind has only the fields its rule reads: a setting that would be
    stored and never read is refused, naming what the kind does read."""

    model_config = ConfigDict(extra="forbid")

    min_confidence: float = Field(0.3, ge=0.0, le=1.0, description="Score a detection needs to count.")
    min_area: float = Field(0.002, ge=0.0, lt=1.0, description="Smallest box, as a fraction of the frame.")
    update_every_s: float = Field(60.0, gt=0, description="Seconds between `update` events of one episode.")
    cooldown_s: float = Field(
        0.0, ge=0, description="After an episode ends, the same zone and class stay quiet this long."
    )

    @model_validator(mode="before")
    @classmethod
    def _only_fields_read(cls, value: Any) -> Any:
        if isinstance(value, dict):
            unread = sorted(str(key) for key in value if key not in cls.model_fields)
            if unread:
                raise ValueError(f"此类规则不读取 {', '.join(unread)} / this rule kind does not read "
                                 f"{', '.join(unread)}; it reads {', '.join(cls.model_fields)}")
        return value


class TrackedRuleParams(RuleParams):
    """Kinds that follow objects: an episode ends once they are gone for `clear_s` (presence ends at `p_off`)."""

    clear_s: float = Field(30.0, gt=0, description="Seconds gone before the event ends.")


class StationaryRuleConfig(TrackedRuleParams):
    """A tracked object that stays still inside a zone for `dwell_s` is a problem (parking)."""

    dwell_s: float = Field(180.0, gt=0, description="Seconds still in the zone before an event starts.")
    max_shift: float = Field(
        0.25, gt=0.0, description="Largest movement of the box centre, as a fraction of the box size."
    )
    exclude_ridden: bool = Field(
        True, description="Ignore a two-wheeler with a person on it (waiting at a light is not parking)."
    )
    ridden_memory_s: float = Field(
        60.0, gt=0,
        description="With `exclude_ridden`: a two-wheeler seen ridden (a person over it or moving with it) stays "
        "ridden this many seconds of frame time after it was last seen so, since a pole or a missed box hides "
        "the rider on some frames; a bike its rider left starts to dwell only once they have been away this long.",
    )
    min_peak_confidence: float = Field(
        0.4, ge=0.0, le=1.0,
        description="Best score an object must reach while it dwells before it counts as parked: min_confidence "
        "starts its stillness and the tracker's low-score matches carry it, so a faint box that never scores like "
        "a vehicle (0.34 at best, on kerb rubble) could otherwise dwell its way into an alert.",
    )


class ClusterRuleConfig(TrackedRuleParams):
    """Objects that stay still together in a zone, with people tending them when `person_ratio` > 0."""

    dwell_s: float = Field(120.0, gt=0)
    max_shift: float = Field(0.25, gt=0.0)
    person_ratio: float = Field(
        0.0, ge=0.0, le=1.0, description="Share of the dwell's frames with a person near the objects."
    )
    person_distance: float = Field(
        1.5, gt=0.0, description="How near a person must stand, in sizes of the object's box."
    )


class PresenceRuleConfig(RuleParams):
    """A surface or pile seen in enough frames of a window: raise at `p_on`, clear below `p_off`."""

    window_s: float = Field(60.0, gt=0, description="Seconds of frames the share is measured over.")
    p_on: float = Field(0.6, gt=0.0, le=1.0)
    p_off: float = Field(0.15, ge=0.0, lt=1.0)

    @model_validator(mode="after")
    def _hysteresis(self) -> PresenceRuleConfig:
        if self.p_off >= self.p_on:
            raise ValueError(f"p_off ({self.p_off}) must be below p_on ({self.p_on}), or alerts would flicker")
        return self


RULE_TYPES: dict[RuleKind, type[RuleParams]] = {
    RuleKind.STATIONARY_TRACK: StationaryRuleConfig,
    RuleKind.STATIONARY_CLUSTER: ClusterRuleConfig,
    RuleKind.PRESENCE: PresenceRuleConfig,
}

# Production defaults per class, from deployed systems (DESIGN.md §2).
DEFAULT_RULES: dict[ProblemClass, RuleParams] = {
    ProblemClass.ILLEGAL_PARKING_MOTOR: StationaryRuleConfig(dwell_s=180, clear_s=30, cooldown_s=300),
    ProblemClass.ILLEGAL_PARKING_NONMOTOR: StationaryRuleConfig(dwell_s=180, clear_s=30, cooldown_s=300),
    ProblemClass.STREET_VENDING: ClusterRuleConfig(dwell_s=120, clear_s=60, person_ratio=0.5, cooldown_s=600),
    ProblemClass.OUTSIDE_STORE_BUSINESS: ClusterRuleConfig(dwell_s=300, clear_s=60, cooldown_s=600),
    ProblemClass.STANDING_WATER: PresenceRuleConfig(min_confidence=0.4, cooldown_s=1800),
    ProblemClass.EXPOSED_GARBAGE: PresenceRuleConfig(min_confidence=0.4, cooldown_s=1800),
    ProblemClass.OVERFLOWING_BIN: PresenceRuleConfig(min_confidence=0.4, cooldown_s=1800),
}


class RulesConfig(BaseModel):
    """Per-class rule parameters; a class given here keeps the defaults of the fields it leaves out."""

    model_config = ConfigDict(extra="forbid")

    standing_water: PresenceRuleConfig
    street_vending: ClusterRuleConfig
    outside_store_business: ClusterRuleConfig
    exposed_garbage: PresenceRuleConfig
    overflowing_bin: PresenceRuleConfig
    illegal_parking_motor: StationaryRuleConfig
    illegal_parking_nonmotor: StationaryRuleConfig

    @model_validator(mode="before")
    @classmethod
    def _merge_with_defaults(cls, value: Any) -> Any:
        if value is None:
            value = {}
        if not isinstance(value, dict):
            return value
        merged: dict[str, Any] = {}
        for key, given in value.items():
            problem = parse_problem_class(key)
            default = DEFAULT_RULES[problem].model_dump()
            merged[problem.value] = {**default, **given} if isinstance(given, dict) else given
        for problem, default in DEFAULT_RULES.items():
            merged.setdefault(problem.value, default.model_dump())
        return merged

    def for_class(self, problem: ProblemClass) -> RuleParams:
        return getattr(self, problem.value)


class ZoneOverride(BaseModel):
    """A zone's own values for one class, e.g. a shorter dwell at a school gate."""

    model_config = ConfigDict(extra="forbid")

    dwell_s: float | None = Field(None, gt=0)
    clear_s: float | None = Field(None, gt=0)
    min_confidence: float | None = Field(None, ge=0.0, le=1.0)
    min_area: float | None = Field(None, ge=0.0, lt=1.0)


class ScheduleWindow(BaseModel):
    """When a zone is armed, in the camera's local time, e.g. school days 07:00-09:00."""

    model_config = ConfigDict(extra="forbid")

    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS))
    start: time
    end: time

    @model_validator(mode="after")
    def _ordered(self) -> ScheduleWindow:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start} (split windows over midnight in two)")
        return self

    def contains(self, moment: datetime) -> bool:
        return WEEKDAYS[moment.weekday()] in self.days and self.start <= moment.time() < self.end


class ZoneConfig(BaseModel):
    """A polygon in normalised image coordinates (0..1), so it survives a resolution change."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    name: ZoneName | None = Field(None, description="What staff call it, e.g. 实验小学南门.")
    kind: ZoneKind
    polygon: list[tuple[float, float]]
    classes: list[ProblemClass] = Field(
        default_factory=list, description="Watched classes; empty means every class the kind allows."
    )
    priority: Priority | None = Field(None, description="Default: high in school and hospital zones.")
    grid: GridName | None = Field(None, description="The grid (网格) responsible for this area.")
    overrides: dict[ProblemClass, ZoneOverride] = Field(default_factory=dict)
    schedule: list[ScheduleWindow] = Field(
        default_factory=list, description="Armed only inside these windows; always armed when empty."
    )

    @field_validator("classes", mode="before")
    @classmethod
    def _known_classes(cls, value: object) -> object:
        if isinstance(value, list):
            return [parse_problem_class(v) for v in value]
        return value

    @field_validator("overrides", mode="before")
    @classmethod
    def _known_override_classes(cls, value: object) -> object:
        if isinstance(value, dict):
            return {parse_problem_class(k): v for k, v in value.items()}
        return value

    @field_validator("overrides")
    @classmethod
    def _overrides_for_watched_classes(
        cls, overrides: dict[ProblemClass, ZoneOverride], info: ValidationInfo
    ) -> dict[ProblemClass, ZoneOverride]:
        """Checked here rather than on the whole zone, so the error names the field."""
        kind = info.data.get("kind")
        watched = info.data.get("classes") or (KIND_CLASSES[kind] if kind is not None else ())
        stray = sorted(p.value for p in overrides if p not in watched)
        if stray and (info.data.get("classes") or kind is not None):
            raise ValueError(f"overrides for classes this zone does not watch: {', '.join(stray)}")
        for problem, override in overrides.items():
            _check_override(problem, override)
        return overrides

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

    def params_for(self, problem: ProblemClass, defaults: RuleParams) -> RuleParams:
        """The class's parameters with this zone's overrides applied."""
        override = self.overrides.get(problem)
        if override is None:
            return defaults
        # Validated as the class's own settings would be (model_copy would skip it).
        return type(defaults).model_validate({**defaults.model_dump(), **override.model_dump(exclude_none=True)})

    def armed_at(self, moment: datetime | None) -> bool:
        if not self.schedule:
            return True
        return moment is not None and any(window.contains(moment) for window in self.schedule)


def rule_kind(problem: ProblemClass) -> RuleKind:
    return CLASS_INFO[problem].rule


def _check_override(problem: ProblemClass, override: ZoneOverride) -> None:
    """An override the class's rule does not read is refused, and its values must pass the rule's own field
    checks, so a zone can never store a setting that is silently ignored or would be refused in `rules`."""
    given = override.model_dump(exclude_none=True)
    kind = rule_kind(problem)
    params_type = RULE_TYPES[kind]
    unread = sorted(name for name in given if name not in params_type.model_fields)
    if unread:
        names = ", ".join(unread)
        raise ValueError(f"{problem.value}.{names}: {CLASS_INFO[problem].name_zh}是 {kind.value} 规则，"
                         f"不读取 {names} / the {kind.value} rule of {problem.value} does not read {names}")
    try:
        params_type.model_validate({**DEFAULT_RULES[problem].model_dump(), **given})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"{problem.value}.{where}: {first['msg']}") from None
