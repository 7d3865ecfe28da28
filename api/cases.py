"""Events become cases: one case per episode, idempotent under re-delivery."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload, sessionmaker

from api.orm import CaseEventRow, CaseRow, utcnow
from zones import Event, EventState, ProblemClass


def _insert(engine: Engine):  # type: ignore[no-untyped-def]
    """The dialect's INSERT that can skip rows already there (both SQLite and PostgreSQL have one)."""
    return postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert


@dataclass(frozen=True)
class CaseFilter:
    status: str | None = None
    problem: ProblemClass | None = None
    camera_id: str | None = None


class CaseStore:
    def __init__(self, engine: Engine, sessions: sessionmaker) -> None:
        self.engine = engine
        self.sessions = sessions
        self._insert = _insert(engine)

    def apply(self, event: Event) -> int:
        """Record one event and fold it into its case; returns the case id.

        The case is created on the first event of its episode (whatever its state,
        since deliveries may come out of order). A delivery already recorded changes
        nothing, so a re-delivered message cannot make a second case.
        """
        with self.sessions.begin() as session:
            case_id = self._ensure_case(session, event)
            inserted = session.execute(
                self._insert(CaseEventRow)
                .values(
                    case_id=case_id,
                    event_id=event.event_id,
                    state=event.state.value,
                    ts_s=event.ts_s,
                    confidence=event.confidence,
                    bbox=list(event.bbox),
                    evidence=event.evidence,
                    received_at=utcnow(),
                )
                .on_conflict_do_nothing(index_elements=["event_id", "state", "ts_s"])
            ).rowcount
            if inserted:
                case = session.get(CaseRow, case_id, with_for_update=True)
                assert case is not None
                _fold(case, event)
        return case_id

    def _ensure_case(self, session: Session, event: Event) -> int:
        session.execute(
            self._insert(CaseRow)
            .values(
                event_id=event.event_id,
                problem=event.problem.value,
                camera_id=event.camera_id,
                zone_id=event.zone_id,
                zone_kind=event.zone_kind.value,
                status="new",
                priority=event.priority,
                grid=event.grid,
                label=event.label,
                confidence=event.confidence,
                bbox=list(event.bbox),
                evidence=event.evidence,
                since_s=event.since_s,
                start_s=event.start_s,
                last_seen_s=event.ts_s if event.end_s is None else event.end_s,
                end_s=None,
                created_at=utcnow(),
                updated_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["event_id"])
        )
        return session.execute(select(CaseRow.id).where(CaseRow.event_id == event.event_id)).scalar_one()

    def list(self, filters: CaseFilter, offset: int, limit: int) -> tuple[list[CaseRow], int]:
        query = select(CaseRow)
        if filters.status:
            query = query.where(CaseRow.status == filters.status)
        if filters.problem:
            query = query.where(CaseRow.problem == filters.problem.value)
        if filters.camera_id:
            query = query.where(CaseRow.camera_id == filters.camera_id)
        with self.sessions() as session:
            total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
            rows = session.scalars(
                query.order_by(CaseRow.created_at.desc(), CaseRow.id.desc()).offset(offset).limit(limit)
            ).all()
        return list(rows), int(total)

    def get(self, case_id: int) -> CaseRow | None:
        with self.sessions() as session:
            return session.scalar(
                select(CaseRow).where(CaseRow.id == case_id).options(selectinload(CaseRow.events))
            )

    def count(self) -> int:
        with self.sessions() as session:
            return int(session.execute(select(func.count(CaseRow.id))).scalar_one())


def _fold(case: CaseRow, event: Event) -> None:
    """Bring a case up to date with one newly recorded event."""
    seen_at = event.end_s if event.end_s is not None else event.ts_s
    if seen_at >= case.last_seen_s:
        case.last_seen_s = seen_at
        case.bbox = list(event.bbox)
        case.label = event.label
    case.confidence = max(case.confidence, event.confidence)
    case.since_s = min(case.since_s, event.since_s)
    if event.evidence and not case.evidence:
        case.evidence = event.evidence
    if event.state is EventState.END:
        case.end_s = event.end_s
    case.updated_at = utcnow()
