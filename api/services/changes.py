"""Every case change is written twice in one transaction: a timeline entry people read, and an
outbox row that the relay turns into a live-feed message and webhook deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from api.orm import CaseRow, ChangeRow, TimelineRow
from api.schemas import CaseOut


def record(
    session: Session,
    case: CaseRow,
    kind: str,
    now: datetime,
    actor: str,
    action: str | None = None,
    from_status: str | None = None,
    note: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """`kind` names the change on the feed (created, merged, transition, escalated, verification...)."""
    session.flush()  # a new case needs its id
    session.add(TimelineRow(
        case_id=case.id, at=now, actor=actor, action=action or kind, from_status=from_status,
        to_status=case.status, note=note, reason=reason, details=details,
    ))
    payload = {
        "kind": kind,
        "actor": actor,
        "from_status": from_status,
        "note": note,
        "reason": reason,
        "details": details,
        "at": now.isoformat(),
        "case": CaseOut.of(case, now).model_dump(mode="json", by_alias=True),
    }
    session.add(ChangeRow(case_id=case.id, kind=kind, at=now, payload=payload))
