"""What the case API returns and accepts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.orm import CaseEventRow, CaseRow, TimelineRow
from api.services.lifecycle import STATUS_NAMES, CaseStatus, DismissReason
from bus.snapshots import thumbnail_of
from zones import CLASS_INFO, ProblemClass


def media_url(relative: str | None) -> str | None:
    return f"/media/{relative}" if relative else None


def thumbnail_url(relative: str | None) -> str | None:
    return media_url(thumbnail_of(relative)) if relative else None


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time the API shows is UTC, and says so."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]


def overdue(row: CaseRow, now: datetime) -> bool:
    from api.services.lifecycle import DEADLINE_RUNS

    return row.deadline is not None and CaseStatus(row.status) in DEADLINE_RUNS and as_utc(row.deadline) < now


class CaseEventOut(BaseModel):
    event_id: str
    state: str
    ts_s: float
    confidence: float
    bbox: list[float]
    evidence_url: str | None
    received_at: UtcDatetime

    @classmethod
    def of(cls, row: CaseEventRow) -> CaseEventOut:
        return cls(event_id=row.event_id, state=row.state, ts_s=row.ts_s, confidence=row.confidence, bbox=row.bbox,
                   evidence_url=media_url(row.evidence), received_at=row.received_at)


class TimelineOut(BaseModel):
    at: UtcDatetime
    actor: str = Field(description="A user name, `system` (routing, escalation) or `camera` (verification).")
    action: str
    from_status: str | None
    to_status: str | None
    note: str | None
    reason: str | None
    details: dict[str, Any] | None

    @classmethod
    def of(cls, row: TimelineRow) -> TimelineOut:
        return cls(at=row.at, actor=row.actor, action=row.action, from_status=row.from_status,
                   to_status=row.to_status, note=row.note, reason=row.reason, details=row.details)


class CaseOut(BaseModel):
    id: int
    event_id: str = Field(description="The first episode's id.")
    problem: str = Field(serialization_alias="class")
    class_name_zh: str
    class_name_en: str
    department_zh: str
    department_en: str
    code_gbt_47678_5: str | None = Field(description="National code, GB/T 47678.5-2026 (None: no code there).")
    code_gbt_30428_2: str | None = Field(description="Older national code, GB/T 30428.2.")
    camera_id: str
    zone_id: str
    zone_kind: str
    zone_name: str | None
    status: str
    status_zh: str
    priority: str
    grid: str | None
    assignee: str | None
    deadline: UtcDatetime | None
    overdue: bool
    escalated: bool
    dismiss_reason: str | None
    verification: str | None = Field(description="pending, passed (gone), failed (still there) or not_verified.")
    verification_note: str | None
    label: str
    confidence: float
    bbox: list[float] = Field(description="Last box, normalised x1, y1, x2, y2.")
    reasons: list[str] = Field(description="Why it fired, in words (detector boxes, the segmenter's share of the "
                               "zone, a zone classifier's score), from its latest episode.")
    evidence_url: str | None = Field(description="Before (整改前): the snapshot that raised the case.")
    thumbnail_url: str | None = Field(description="A small copy of the before-snapshot, for lists and the live feed "
                                      "(absent for evidence older than thumbnails: fall back to evidence_url).")
    after_evidence_url: str | None = Field(description="After (整改后): what the camera saw when it looked again.")
    episodes: int = Field(description="Problem episodes merged into this case.")
    since_s: float
    start_s: float
    last_seen_s: float
    end_s: float | None
    active: bool = Field(description="The problem was still in view at the last event.")
    lon: float | None
    lat: float | None
    created_at: UtcDatetime
    updated_at: UtcDatetime
    closed_at: UtcDatetime | None

    @classmethod
    def of(cls, row: CaseRow, now: datetime) -> CaseOut:
        info = CLASS_INFO[ProblemClass(row.problem)]
        return cls(
            id=row.id, event_id=row.event_id, problem=row.problem,
            class_name_zh=info.name_zh, class_name_en=info.name_en,
            department_zh=info.department_zh, department_en=info.department_en,
            code_gbt_47678_5=info.code_gbt_47678_5, code_gbt_30428_2=info.code_gbt_30428_2,
            camera_id=row.camera_id, zone_id=row.zone_id, zone_kind=row.zone_kind, zone_name=row.zone_name,
            status=row.status, status_zh=STATUS_NAMES[CaseStatus(row.status)][0], priority=row.priority,
            grid=row.grid, assignee=row.assignee, deadline=row.deadline, overdue=overdue(row, now),
            escalated=row.escalated, dismiss_reason=row.dismiss_reason, verification=row.verification,
            verification_note=row.verification_note, label=row.label, confidence=row.confidence, bbox=row.bbox,
            reasons=list(row.reasons or []),
            evidence_url=media_url(row.evidence), thumbnail_url=thumbnail_url(row.evidence),
            after_evidence_url=media_url(row.after_evidence),
            episodes=row.episodes, since_s=row.since_s, start_s=row.start_s, last_seen_s=row.last_seen_s,
            end_s=row.end_s, active=row.active, lon=row.lon, lat=row.lat, created_at=row.created_at,
            updated_at=row.updated_at, closed_at=row.closed_at,
        )


class CaseDetailOut(CaseOut):
    events: list[CaseEventOut]
    timeline: list[TimelineOut]
    actions: list[str] = Field(description="Statuses the caller may move this case to now.")


class CasePage(BaseModel):
    items: list[CaseOut]
    total: int | None = Field(description="Matching cases; left out (null) when paging by cursor.")
    total_exact: bool = Field(True, description="False when more cases match than `total`: counting stops at "
                              "10,000 (narrow the filters, or page by cursor).")
    page: int | None
    page_size: int
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page (keyset paging).")


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: CaseStatus = Field(description="The status to move the case to.")
    note: str | None = Field(None, max_length=2000, description="Why, for the timeline.")
    reason: DismissReason | None = Field(None, description="Required when dismissing.")
    assignee: str | None = Field(None, min_length=1, max_length=128,
                                 description="Override the routed department or team when dispatching.")


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    username: str
    role: str
