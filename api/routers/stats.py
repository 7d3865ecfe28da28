"""/api/stats: the figures the dashboard draws."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.auth import Reader
from api.deps import SessionsDep
from api.errors import PROTECTED
from api.orm import utcnow
from api.services.stats import figures

router = APIRouter(prefix="/api", tags=["figures 统计"], responses=PROTECTED)


@router.get("/stats")
def stats(sessions: SessionsDep, _reader: Reader,
          days: Annotated[int, Query(ge=1, le=366, description="How far back alerts per day go.")] = 30
          ) -> dict[str, Any]:
    """统计 / open cases by class and by grid, overdue count, median hours to close, alerts per day."""
    return figures(sessions, utcnow(), days=days)
