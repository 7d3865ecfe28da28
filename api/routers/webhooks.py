"""/api/webhooks: what was sent to the centre's other systems, and what is still waiting (admins)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from api.auth import Admin
from api.deps import SessionsDep
from api.errors import PROTECTED
from api.orm import WebhookDeliveryRow
from api.schemas import UtcDatetime

router = APIRouter(prefix="/api/webhooks", tags=["webhooks 外部推送"], responses=PROTECTED)


class DeliveryOut(BaseModel):
    id: int
    change_id: int
    case_id: int
    webhook: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: UtcDatetime
    next_attempt_at: UtcDatetime
    delivered_at: UtcDatetime | None


@router.get("/deliveries", response_model=list[DeliveryOut])
def deliveries(
    sessions: SessionsDep,
    _admin: Admin,
    status: Annotated[Literal["pending", "delivered", "failed"] | None, Query()] = None,
    case_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryOut]:
    """推送记录 / every delivery with its attempts, newest first."""
    statement = select(WebhookDeliveryRow).order_by(WebhookDeliveryRow.id.desc()).limit(limit)
    if status is not None:
        statement = statement.where(WebhookDeliveryRow.status == status)
    if case_id is not None:
        statement = statement.where(WebhookDeliveryRow.case_id == case_id)
    with sessions() as session:
        rows = session.scalars(statement).all()
    return [DeliveryOut.model_validate(r, from_attributes=True) for r in rows]
