"""Escalation against a case that changes under it, on the real PostgreSQL: the replica that escalates reads the
due cases in one transaction and changes each in another, so a person may resolve or dismiss one in between."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from api.db import make_engine, migrate, session_factory
from api.orm import CaseRow, ChangeRow, TimelineRow, utcnow
from api.services.cases import CaseStore
from api.services.escalation import escalate_overdue
from tests.helpers import make_event


class _MovedBeforeEachChange:
    """The escalating replica's sessions; just before each per-case transaction another connection (a person on
    another replica) moves the case, as if it happened between the two reads."""

    def __init__(self, sessions: sessionmaker, move: object) -> None:
        self._sessions = sessions
        self._move = move

    def __call__(self):  # type: ignore[no-untyped-def]
        return self._sessions()

    def begin(self):  # type: ignore[no-untyped-def]
        self._move()  # type: ignore[operator]
        return self._sessions.begin()


@pytest.mark.parametrize("status", ["resolved", "dismissed", "closed"])
def test_a_case_closed_after_it_was_found_overdue_does_not_escalate(postgres_url: str, status: str):
    engine, person = make_engine(postgres_url), make_engine(postgres_url)
    migrate(engine)
    sessions = session_factory(engine)
    try:
        store = CaseStore(engine, sessions)
        late = store.apply(make_event("cam", "curb", "illegal_parking_motor", 1.0, priority="normal"))
        on_time = store.apply(make_event("cam", "gate", "illegal_parking_motor", 1.0, priority="normal"))
        now = utcnow()
        with sessions.begin() as session:
            session.execute(update(CaseRow).values(status="confirmed", deadline=now - timedelta(hours=1)))

        def move() -> None:
            with person.begin() as connection:
                connection.execute(update(CaseRow).where(CaseRow.id == late).values(status=status))

        escalated = escalate_overdue(_MovedBeforeEachChange(sessions, move), now)  # type: ignore[arg-type]
        with sessions() as session:
            cases = {c.id: c for c in session.scalars(select(CaseRow))}
            actions = list(session.scalars(select(TimelineRow.action).where(TimelineRow.case_id == late)))
            kinds = list(session.scalars(select(ChangeRow.kind).where(ChangeRow.case_id == late)))
        assert escalated == [on_time]
        assert cases[late].status == status and cases[late].escalated is False and cases[late].priority == "normal"
        assert "escalated" not in actions and "escalated" not in kinds
        assert cases[on_time].escalated is True and cases[on_time].priority == "high"
    finally:
        engine.dispose()
        person.dispose()
