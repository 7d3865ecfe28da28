"""What a rule raises: one state change of one problem episode."""

from __future__ import annotations

import re
import uuid
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, field_validator

from zones.classes import ProblemClass, ZoneKind

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EVENT_NAMESPACE = uuid.UUID("5d1e3c2a-7b8f-4c61-9a0e-2f4b6d8e1c35")
ZONE_NAME_MAX = 128
GRID_MAX = 64


def _plain_text(what_zh: str, what_en: str, most: int) -> AfterValidator:
    """One check for a zone's text, used by the zone at save and by every event it raises: a name the zone
    accepts can never make its events invalid (which would silence the zone)."""

    def check(text: str) -> str:
        if len(text) > most:
            raise ValueError(f"{what_zh}最多 {most} 个字符，现为 {len(text)} / {what_en} is at most {most} characters, "
                             f"got {len(text)}")
        if _CONTROL.search(text):
            raise ValueError(f"{what_zh}不能含控制字符 / {what_en} must not contain control characters such as NUL")
        return text

    return AfterValidator(check)


ZoneName = Annotated[str, _plain_text("区域名称", "a zone name", ZONE_NAME_MAX),
                     Field(json_schema_extra={"maxLength": ZONE_NAME_MAX})]
GridName = Annotated[str, _plain_text("网格名称", "a grid name", GRID_MAX),
                     Field(json_schema_extra={"maxLength": GRID_MAX})]


class EventState(StrEnum):
    START = "start"
    UPDATE = "update"
    END = "end"


def episode_id(camera_id: str, zone_id: str, problem: ProblemClass, start_s: float, track_id: int) -> str:
    """Same camera, zone, class, start and object give the same id, so a re-delivery cannot open a second case.

    The track id is part of the key because two cars can start dwelling in one zone in the same frame.
    """
    key = f"{camera_id}|{zone_id}|{ProblemClass(problem).value}|{start_s:.3f}|{track_id}"
    return str(uuid.uuid5(_EVENT_NAMESPACE, key))


class Event(BaseModel):
    """Times are seconds on the camera's timeline: the clip's for a replay, the stream's for a live camera."""

    # NaN and ±Infinity are refused here, not by the database after a retry: a time or a box that is not a
    # number can never become a case.
    model_config = ConfigDict(frozen=True, populate_by_name=True, serialize_by_alias=True, extra="ignore",
                              allow_inf_nan=False)

    event_id: str = Field(min_length=1, max_length=64)
    problem: ProblemClass = Field(alias="class")
    camera_id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    zone_id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    zone_kind: ZoneKind
    zone_name: ZoneName | None = Field(None, description="What staff call the zone.")
    state: EventState
    start_s: float = Field(description="When the rule raised the episode.")
    ts_s: float = Field(description="When this state change happened.")
    end_s: float | None = Field(None, description="Last time the problem was seen; set on `end`.")
    since_s: float = Field(description="When the object first stood still in the zone.")
    confidence: float = Field(ge=0.0, le=1.0, description="Best detection score in the episode.")
    bbox: tuple[float, float, float, float] = Field(description="Last box, normalised x1, y1, x2, y2.")
    label: str = Field(max_length=64, description="The model's label behind the event, e.g. car.")
    track_id: int
    priority: Literal["high", "normal", "low"] = "normal"
    grid: GridName | None = None
    # Older workers' spools and streams still say "evidence": read either name, write the new one.
    snapshot: str | None = Field(None, max_length=255, validation_alias=AliasChoices("snapshot", "evidence"),
                                 description="The snapshot's path (the evidence picture), relative to the media dir.")
    reasons: tuple[str, ...] = Field((), max_length=10, description="Why it fired, in words: the evidence kinds "
                                     "(detector, segmenter, classifier) and what each measured.")
    lon: float | None = Field(None, ge=-180, le=180, description="Where it is: the camera's or the anchor's position.")
    lat: float | None = Field(None, ge=-90, le=90)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        """A NUL (or another control character) in a string is refused by PostgreSQL and unreadable on a wall."""
        texts = value if isinstance(value, tuple) else (value,)
        if any(isinstance(text, str) and _CONTROL.search(text) for text in texts):
            raise ValueError("text must not contain control characters such as NUL")
        return value

    @field_validator("reasons")
    @classmethod
    def _short_reasons(cls, reasons: tuple[str, ...]) -> tuple[str, ...]:
        if any(len(reason) > 300 for reason in reasons):
            raise ValueError("a reason is at most 300 characters")
        return reasons

    @property
    def dwell_s(self) -> float:
        return (self.end_s if self.end_s is not None else self.ts_s) - self.since_s
