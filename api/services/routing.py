"""The routing table: class × zone kind × grid → who handles a case, how urgent, and by when.

The first rule whose `match` fits the case decides; what it leaves out comes from `default`, and
the assignee, failing both, is the class's responsible department. School and hospital zones
raise the priority one level above what the route says (never below the zone's own priority).
Deadlines count either plain hours or the centre's working hours (DESIGN §2: exposed garbage
cleared within 4 working hours).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from api.orm import CaseRow
from api.services.lifecycle import PRIORITIES, priority_rank, raised
from zones import CLASS_INFO, ProblemClass, ZoneKind
from zones.classes import HIGH_PRIORITY_KINDS
from zones.config import WEEKDAYS, Weekday

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> timedelta:
    """'4h', '30m', '2d', '90s', or a number of hours."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value) * 3600
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    else:
        raise ValueError(f"not a duration: {value!r}; write e.g. 4h, 30m, 2d or a number of hours")
    if seconds <= 0 or seconds > 365 * 86400:
        raise ValueError(f"duration {value!r} must be above 0 and at most a year")
    return timedelta(seconds=seconds)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Priority = Literal["low", "normal", "high", "urgent"]
AssignAt = Literal["confirm", "create"]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class RouteMatch(BaseModel):
    """Empty lists match anything."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    classes: Annotated[list[ProblemClass], BeforeValidator(_as_list)] = Field(default_factory=list, alias="class")
    zone_kind: Annotated[list[ZoneKind], BeforeValidator(_as_list)] = Field(default_factory=list)
    grid: Annotated[list[str], BeforeValidator(_as_list)] = Field(default_factory=list)

    def fits(self, problem: ProblemClass, zone_kind: ZoneKind, grid: str | None) -> bool:
        return (
            (not self.classes or problem in self.classes)
            and (not self.zone_kind or zone_kind in self.zone_kind)
            and (not self.grid or grid in self.grid)
        )


class RouteSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assignee: str | None = Field(None, max_length=128, description="A department or grid team.")
    priority: Priority | None = None
    deadline: Duration | None = None
    working_hours: bool | None = Field(None, description="Count the deadline in working hours only.")
    assign_at: AssignAt | None = Field(None, description="Route when the case is confirmed, or at once.")


class RouteRule(RouteSettings):
    name: str | None = None
    match: RouteMatch = Field(default_factory=RouteMatch)


class WorkingHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]))
    start: time = time(8, 30)
    end: time = time(17, 30)
    timezone: str = "Asia/Shanghai"

    @model_validator(mode="after")
    def _ordered(self) -> WorkingHours:
        if self.end <= self.start:
            raise ValueError(f"working hours end {self.end} must be after start {self.start}")
        if not self.days:
            raise ValueError("working hours need at least one day")
        ZoneInfo(self.timezone)
        return self

    def add(self, start: datetime, span: timedelta) -> datetime:
        """`start` plus `span` of working time: nights, weekends and off days do not count."""
        zone = ZoneInfo(self.timezone)
        moment = start.astimezone(zone)
        remaining = span
        for _ in range(3660):  # ten years of days: a bound, never reached with a validated span
            day_start = moment.replace(hour=self.start.hour, minute=self.start.minute, second=0, microsecond=0)
            day_end = moment.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
            if WEEKDAYS[moment.weekday()] in self.days and moment < day_end:
                moment = max(moment, day_start)
                if moment + remaining <= day_end:
                    return moment + remaining
                remaining -= day_end - moment
            moment = (day_start + timedelta(days=1)).replace(hour=0, minute=0)
        raise ValueError("working-hours deadline out of range")


class RoutingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: RouteSettings = Field(
        default_factory=lambda: RouteSettings(priority="normal", deadline=timedelta(hours=24),
                                              working_hours=False, assign_at="confirm")
    )
    working_hours: WorkingHours = Field(default_factory=WorkingHours)
    rules: list[RouteRule] = Field(default_factory=list)

    @field_validator("rules")
    @classmethod
    def _bounded(cls, rules: list[RouteRule]) -> list[RouteRule]:
        if len(rules) > 1000:
            raise ValueError("at most 1000 routing rules")
        return rules


@dataclass(frozen=True)
class Route:
    assignee: str
    priority: str
    deadline: timedelta
    working_hours: bool
    assign_at: str
    rule: str | None

    def due(self, start: datetime, calendar: WorkingHours) -> datetime:
        """In UTC: SQLite keeps no time zone, so every stored time is UTC."""
        due = calendar.add(start, self.deadline) if self.working_hours else start + self.deadline
        return due.astimezone(UTC)


class Router:
    def __init__(self, config: RoutingConfig) -> None:
        self.config = config

    def apply(self, case: CaseRow, now: datetime) -> dict[str, object]:
        """Give a case its assignee (unless it has one), priority (never lowered) and a fresh deadline."""
        route = self.route(ProblemClass(case.problem), ZoneKind(case.zone_kind), case.grid, case.priority)
        case.assignee = case.assignee or route.assignee
        if priority_rank(route.priority) > case.priority_rank:
            case.priority, case.priority_rank = route.priority, priority_rank(route.priority)
        case.deadline = route.due(now, self.config.working_hours)
        case.escalated = False
        return {"assignee": case.assignee, "priority": case.priority, "deadline": case.deadline.isoformat(),
                "route": route.rule}

    def route(self, problem: ProblemClass, zone_kind: ZoneKind, grid: str | None, zone_priority: str) -> Route:
        rule = next((r for r in self.config.rules if r.match.fits(problem, zone_kind, grid)), None)
        default = self.config.default

        def pick(field: str, fallback: Any) -> Any:
            for source in (rule, default):
                value = getattr(source, field) if source is not None else None
                if value is not None:
                    return value
            return fallback

        info = CLASS_INFO[problem]
        priority = pick("priority", "normal")
        if zone_kind in HIGH_PRIORITY_KINDS:
            priority = raised(priority)
        if zone_priority in PRIORITIES and priority_rank(zone_priority) > priority_rank(priority):
            priority = zone_priority
        return Route(
            assignee=pick("assignee", f"{info.department_zh} {info.department_en}"),
            priority=priority,
            deadline=pick("deadline", timedelta(hours=24)),
            working_hours=pick("working_hours", False),
            assign_at=pick("assign_at", "confirm"),
            rule=rule.name if rule is not None else None,
        )
