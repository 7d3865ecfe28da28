"""What the case API returns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from api.orm import CaseEventRow, CaseRow
from zones import CLASS_INFO, ProblemClass


def media_url(relative: str | None) -> str | None:
    return f"/media/{relative}" if relative else None


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time the API shows is UTC, and says so."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]


class CaseEventOut(BaseModel):
    state: str
    ts_s: float
    confidence: float
    bbox: list[float]
    evidence_url: str | None
    received_at: UtcDatetime

    @classmethod
    def of(cls, row: CaseEventRow) -> CaseEventOut:
        return cls(
            state=row.state,
            ts_s=row.ts_s,
            confidence=row.confidence,
            bbox=row.bbox,
            evidence_url=media_url(row.evidence),
            received_at=row.received_at,
        )


class CaseOut(BaseModel):
    id: int
    event_id: str
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
    status: str
    priority: str
    grid: str | None
    label: str
    confidence: float
    bbox: list[float] = Field(description="Last box, normalised x1, y1, x2, y2.")
    evidence_url: str | None
    since_s: float
    start_s: float
    last_seen_s: float
    end_s: float | None
    active: bool = Field(description="The problem was still in view at the last event.")
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @classmethod
    def of(cls, row: CaseRow) -> CaseOut:
        info = CLASS_INFO[ProblemClass(row.problem)]
        return cls(
            id=row.id,
            event_id=row.event_id,
            problem=row.problem,
            class_name_zh=info.name_zh,
            class_name_en=info.name_en,
            department_zh=info.department_zh,
            department_en=info.department_en,
            code_gbt_47678_5=info.code_gbt_47678_5,
            code_gbt_30428_2=info.code_gbt_30428_2,
            camera_id=row.camera_id,
            zone_id=row.zone_id,
            zone_kind=row.zone_kind,
            status=row.status,
            priority=row.priority,
            grid=row.grid,
            label=row.label,
            confidence=row.confidence,
            bbox=row.bbox,
            evidence_url=media_url(row.evidence),
            since_s=row.since_s,
            start_s=row.start_s,
            last_seen_s=row.last_seen_s,
            end_s=row.end_s,
            active=row.end_s is None,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class CaseDetailOut(CaseOut):
    events: list[CaseEventOut]


class CasePage(BaseModel):
    items: list[CaseOut]
    total: int
    page: int
    page_size: int
