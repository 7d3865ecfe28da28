"""Cases past their deadline escalate once: priority up a level, flagged, and a change on the live feed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from api.orm import CaseRow, utcnow
from api.services import changes
from api.services.lifecycle import DEADLINE_RUNS, priority_rank, raised

Clock = Callable[[], datetime]


def escalate_overdue(sessions: sessionmaker, now: datetime | None = None, clock: Clock = utcnow,
                     batch: int = 500) -> list[int]:
    """Escalate every open case whose deadline has passed and that has not escalated yet; returns their ids.

    Safe to run from several API replicas at once, and beside people working the cases: each case is locked and
    re-checked (status, deadline, not yet escalated) before it changes.
    """
    now = now or clock()
    overdue = (CaseRow.status.in_([s.value for s in DEADLINE_RUNS]), CaseRow.escalated.is_(False),
               CaseRow.deadline.is_not(None), CaseRow.deadline < now)
    with sessions() as session:
        due = list(session.scalars(select(CaseRow.id).where(*overdue).order_by(CaseRow.deadline).limit(batch)))
    escalated = []
    for case_id in due:
        with sessions.begin() as session:
            # The whole condition again under the lock: someone may have resolved or dismissed it since.
            case = session.scalar(select(CaseRow).where(CaseRow.id == case_id, *overdue).with_for_update())
            if case is None:
                continue
            before = case.priority
            case.priority = raised(case.priority)
            case.priority_rank = priority_rank(case.priority)
            case.escalated = True
            case.updated_at = now
            changes.record(
                session, case, "escalated", now, "system", action="escalated",
                note=f"超过处置时限，优先级 {before} → {case.priority} / past its deadline: priority raised",
                details={"deadline": case.deadline.isoformat() if case.deadline else None, "from_priority": before},
            )
        escalated.append(case_id)
    return escalated
