"""Events become cases: one case per open problem at a camera, zone and class; idempotent under re-delivery.

An episode (a worker's event id) is recorded once in `case_episodes`, bound to the case it joined.
While a case for the same camera, zone and class is open, a new episode joins it; once that case
is closed or dismissed, the next episode opens a new one. A partial unique index keeps at most one
open case per camera, zone and class, so two consumers racing cannot open two.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload, sessionmaker

from api.orm import OPEN_STATUSES, CaseEventRow, CaseRow, EpisodeRow, utcnow
from api.services import changes
from api.services.lifecycle import priority_rank
from api.services.routing import Router, RoutingConfig
from zones import Event, EventState

Clock = Callable[[], datetime]


class EventRejected(ValueError):
    """An event that must not touch the case it names (it would rewrite another episode's case)."""


def _insert(engine: Engine):  # type: ignore[no-untyped-def]
    """The dialect's INSERT that can skip rows already there (both SQLite and PostgreSQL have one)."""
    return postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert


@dataclass(frozen=True)
class Applied:
    case_id: int
    created: bool
    merged: bool
    recorded: bool  # False: this delivery was already recorded, nothing changed


class CaseStore:
    def __init__(self, engine: Engine, sessions: sessionmaker, router: Router | None = None,
                 clock: Clock = utcnow) -> None:
        self.engine = engine
        self.sessions = sessions
        self.router = router or Router(RoutingConfig())
        self.clock = clock
        self._insert = _insert(engine)

    def apply(self, event: Event) -> int:
        return self.apply_event(event).case_id

    def apply_event(self, event: Event) -> Applied:
        """Record one event and fold it into its case.

        The case is found (or opened) on the first event of its episode whatever its state, since
        deliveries may come out of order. A delivery already recorded changes nothing.
        """
        now = self.clock()
        with self.sessions.begin() as session:
            case, created, merged = self._case_for(session, event, now)
            inserted = session.execute(
                self._insert(CaseEventRow)
                .values(case_id=case.id, event_id=event.event_id, state=event.state.value, ts_s=event.ts_s,
                        confidence=event.confidence, bbox=list(event.bbox), evidence=event.snapshot, received_at=now)
                .on_conflict_do_nothing(index_elements=["event_id", "state", "ts_s"])
                .returning(CaseEventRow.id)
            ).scalar()
            if inserted is None:
                return Applied(case.id, False, False, False)
            episode_ended = _fold(session, case, event, now)
            if created:
                changes.record(session, case, "created", now, "system", details=_route_details(case))
            elif merged:
                changes.record(session, case, "merged", now, "system",
                               note="同一位置再次发现，合并入本案件 / seen again here: joined this case",
                               details={"event_id": event.event_id})
            elif episode_ended:
                changes.record(session, case, "episode_ended", now, "camera", details={"event_id": event.event_id})
            return Applied(case.id, created, merged, True)

    def _case_for(self, session: Session, event: Event, now: datetime) -> tuple[CaseRow, bool, bool]:
        """The case this event's episode belongs to: known, an open one it joins, or a new one."""
        known = session.get(EpisodeRow, event.event_id)
        if known is not None:
            case = session.get(CaseRow, known.case_id, with_for_update=True)
            assert case is not None
            _same_place(case, event)
            return case, False, False
        created = False
        case = self._open_case(session, event)
        if case is None:
            # Any conflict, not only the open-case index: a replica that opened a case for this same episode
            # holds its event_id too (it commits, or deletes it on losing the bind; the insert waits for which).
            created = session.execute(
                self._insert(CaseRow).values(**self._new_case_values(event, now))
                .on_conflict_do_nothing()
                .returning(CaseRow.id)
            ).scalar() is not None
            case = self._open_case(session, event)
            assert case is not None
        bound = session.execute(
            self._insert(EpisodeRow)
            .values(event_id=event.event_id, case_id=case.id, start_s=event.start_s, end_s=None, created_at=now)
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(EpisodeRow.event_id)
        ).scalar() is not None
        if not bound:  # another consumer bound this episode first: it opened or joined, this delivery did neither
            return self._taken(session, event, case if created else None), False, False
        if not created:
            case.episodes += 1
        return case, created, not created

    def _taken(self, session: Session, event: Event, opened: CaseRow | None) -> CaseRow:
        """The case that bound this episode first; a case this delivery opened meanwhile holds nothing, so it goes."""
        if opened is not None:
            session.delete(opened)
            session.flush()
        owner = session.get(EpisodeRow, event.event_id, populate_existing=True)
        assert owner is not None
        case = session.get(CaseRow, owner.case_id, with_for_update=True, populate_existing=True)
        assert case is not None
        _same_place(case, event)
        return case

    def _open_case(self, session: Session, event: Event) -> CaseRow | None:
        return session.scalar(
            select(CaseRow).where(
                CaseRow.camera_id == event.camera_id, CaseRow.zone_id == event.zone_id,
                CaseRow.problem == event.problem.value, CaseRow.status.in_(OPEN_STATUSES),
            ).with_for_update()
        )

    def _new_case_values(self, event: Event, now: datetime) -> dict[str, object]:
        route = self.router.route(event.problem, event.zone_kind, event.grid, event.priority)
        values: dict[str, object] = dict(
            event_id=event.event_id, problem=event.problem.value, camera_id=event.camera_id, zone_id=event.zone_id,
            zone_kind=event.zone_kind.value, zone_name=event.zone_name, status="new", priority=event.priority,
            priority_rank=priority_rank(event.priority), grid=event.grid, label=event.label,
            confidence=event.confidence, bbox=list(event.bbox), reasons=list(event.reasons), evidence=event.snapshot,
            since_s=event.since_s,
            start_s=event.start_s, last_seen_s=event.ts_s if event.end_s is None else event.end_s, end_s=None,
            active=True, episodes=1, lon=event.lon, lat=event.lat, created_at=now, updated_at=now,
        )
        if route.assign_at == "create":
            values.update(assignee=route.assignee, priority=route.priority,
                          priority_rank=priority_rank(route.priority),
                          deadline=route.due(now, self.router.config.working_hours))
        return values

    def get(self, case_id: int) -> CaseRow | None:
        with self.sessions() as session:
            return session.scalar(
                select(CaseRow).where(CaseRow.id == case_id)
                .options(selectinload(CaseRow.events), selectinload(CaseRow.timeline))
            )

    def count(self) -> int:
        with self.sessions() as session:
            return int(session.execute(select(func.count(CaseRow.id))).scalar_one())


def _same_place(case: CaseRow, event: Event) -> None:
    if (case.camera_id, case.zone_id, case.problem) != (event.camera_id, event.zone_id, event.problem.value):
        raise EventRejected(
            f"event {event.event_id} names camera {event.camera_id}, zone {event.zone_id}, class {event.problem}, "
            f"but its episode belongs to case {case.id} at {case.camera_id}/{case.zone_id}/{case.problem}"
        )


def _route_details(case: CaseRow) -> dict[str, object] | None:
    if case.assignee is None:
        return None
    return {"assignee": case.assignee, "deadline": case.deadline.isoformat() if case.deadline else None}


def _fold(session: Session, case: CaseRow, event: Event, now: datetime) -> bool:
    """Bring a case up to date with one newly recorded event; True when it ended an episode."""
    seen_at = event.end_s if event.end_s is not None else event.ts_s
    if seen_at >= case.last_seen_s:
        case.last_seen_s = seen_at
        case.bbox = list(event.bbox)
        case.label = event.label
        if event.reasons:
            case.reasons = list(event.reasons)
    case.confidence = max(case.confidence, event.confidence)
    case.since_s = min(case.since_s, event.since_s)
    if event.snapshot and not case.evidence:
        case.evidence = event.snapshot
    ended = False
    if event.state is EventState.END:
        episode = session.get(EpisodeRow, event.event_id)
        if episode is not None and episode.end_s is None:
            episode.end_s = event.end_s
            ended = True
        case.end_s = event.end_s if case.end_s is None else max(case.end_s, event.end_s or case.end_s)
    session.flush()
    case.active = session.scalar(
        select(func.count()).select_from(EpisodeRow).where(EpisodeRow.case_id == case.id, EpisodeRow.end_s.is_(None))
    ) > 0
    if case.active:
        case.end_s = None
    case.updated_at = now
    return ended
