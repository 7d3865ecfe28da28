"""The centre's figures: open cases by class and grid, overdue work, time to close, alerts per day."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from api.orm import OPEN_STATUSES, CaseRow
from api.services.lifecycle import DEADLINE_RUNS
from zones import CLASS_INFO, ProblemClass


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def figures(sessions: sessionmaker, now: datetime, days: int = 30, sample: int = 5000) -> dict[str, Any]:
    """Everything the dashboard's figures page draws, in one read."""
    since = now - timedelta(days=days)
    open_filter = CaseRow.status.in_(OPEN_STATUSES)
    with sessions() as session:
        by_class = dict(session.execute(
            select(CaseRow.problem, func.count()).where(open_filter).group_by(CaseRow.problem)).all())
        by_grid = dict(session.execute(
            select(func.coalesce(CaseRow.grid, ""), func.count()).where(open_filter).group_by(CaseRow.grid)).all())
        by_status = dict(session.execute(select(CaseRow.status, func.count()).group_by(CaseRow.status)).all())
        overdue = session.scalar(select(func.count()).where(
            CaseRow.status.in_([s.value for s in DEADLINE_RUNS]), CaseRow.deadline.is_not(None),
            CaseRow.deadline < now)) or 0
        closed = session.execute(
            select(CaseRow.created_at, CaseRow.closed_at)
            .where(CaseRow.status == "closed", CaseRow.closed_at.is_not(None), CaseRow.closed_at >= since)
            .order_by(CaseRow.closed_at.desc()).limit(sample)
        ).all()
        day = func.date(CaseRow.created_at)
        created = session.execute(select(day, func.count()).where(CaseRow.created_at >= since).group_by(day)).all()
    hours = [(_utc(end) - _utc(start)).total_seconds() / 3600 for start, end in closed]
    per_day: dict[str, int] = {}
    for day in range(days, -1, -1):
        per_day[(now - timedelta(days=day)).date().isoformat()] = 0
    for moment, count in created:
        key = str(moment)[:10]
        if key in per_day:
            per_day[key] = int(count)
    return {
        "open_by_class": [
            {"class": p.value, "name_zh": CLASS_INFO[p].name_zh, "name_en": CLASS_INFO[p].name_en,
             "count": int(by_class.get(p.value, 0))}
            for p in ProblemClass
        ],
        "open_by_grid": [{"grid": grid or None, "count": int(count)} for grid, count in sorted(by_grid.items())],
        "by_status": {status: int(count) for status, count in sorted(by_status.items())},
        "overdue": int(overdue),
        "closed_last_days": len(hours),
        "median_hours_to_close": round(statistics.median(hours), 2) if hours else None,
        "alerts_per_day": [{"day": day, "count": count} for day, count in per_day.items()],
        "days": days,
    }
