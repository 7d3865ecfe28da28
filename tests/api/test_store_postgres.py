"""The case store on the real PostgreSQL, past the point where psycopg prepares statements on the server."""

from __future__ import annotations

from api.db import make_engine, migrate, session_factory
from api.services.cases import CaseStore
from tests.helpers import make_event


def test_many_places_each_open_their_case_and_episodes_at_one_place_merge(postgres_url: str):
    engine = make_engine(postgres_url)
    migrate(engine)
    store = CaseStore(engine, session_factory(engine))
    try:
        # psycopg prepares a statement on its 6th run: the open-case insert must still find its partial index.
        created = [store.apply_event(make_event("cam", f"zone-{i}", "illegal_parking_motor", 1.0)) for i in range(12)]
        assert all(a.created for a in created) and len({a.case_id for a in created}) == 12
        merged = [store.apply_event(make_event("cam", "zone-0", "illegal_parking_motor", 5.0 + i, track=10 + i))
                  for i in range(8)]
        assert all(a.merged and a.case_id == created[0].case_id for a in merged)
        assert store.count() == 12
    finally:
        engine.dispose()


def test_api_replicas_starting_together_migrate_one_after_the_other(postgres_url: str):
    """Kubernetes starts every API replica at once; each runs the migrations on start."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import inspect, text

    engines = [make_engine(postgres_url) for _ in range(4)]
    try:
        with ThreadPoolExecutor(len(engines)) as pool:
            failures = [f.exception() for f in [pool.submit(migrate, e) for e in engines]]
        assert failures == [None] * len(engines)
        with engines[0].connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert len(versions) == 1  # one head, written once
        assert "cases" in inspect(engines[0]).get_table_names()
    finally:
        for engine in engines:
            engine.dispose()


def test_two_consumers_taking_the_same_new_episodes_at_once_record_each_once(postgres_url: str):
    """Two API replicas get the start and an update of the same new episode at once (one redelivered, one
    claimed). Both look the episode up before either binds it; the one that loses the bind joined nothing, so
    it must not count an episode, write "seen again here" or put a merge on the live feed and webhooks."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import func, select

    from api.orm import CaseRow, ChangeRow, EpisodeRow, TimelineRow

    # zone-0: a second episode joins the first one's case (one true merge); zone-1, zone-2: one episode each.
    backlog = [("zone-0", 1.0, 1), ("zone-0", 3.0, 2), ("zone-1", 1.0, 3), ("zone-2", 2.0, 4)]
    barrier = threading.Barrier(2, timeout=60)  # a deadlock breaks the barrier instead of hanging the run

    def replica() -> tuple[object, CaseStore]:
        engine = make_engine(postgres_url)
        store = CaseStore(engine, session_factory(engine))
        looked_up = store._open_case

        def open_case_after_both_looked(session, event):  # type: ignore[no-untyped-def]
            # Both replicas have found the episode unknown; the race starts here, every time.
            if store.__dict__.pop("armed", False):
                barrier.wait()
            return looked_up(session, event)

        store._open_case = open_case_after_both_looked  # type: ignore[method-assign]
        return engine, store

    def consume(store: CaseStore, state: str) -> None:
        for zone, start, track in backlog:
            store.armed = True  # type: ignore[attr-defined]
            store.apply_event(make_event("cam", zone, "illegal_parking_motor", start, state=state, track=track,
                                         ts_s=start + (2.0 if state == "update" else 0.0)))

    migrate_engine = make_engine(postgres_url)
    migrate(migrate_engine)
    (engine_a, store_a), (engine_b, store_b) = replica(), replica()
    try:
        with ThreadPoolExecutor(2) as pool:
            runs = [pool.submit(consume, store_a, "start"), pool.submit(consume, store_b, "update")]
            assert [r.exception() for r in runs] == [None, None]
        with store_a.sessions() as session:
            cases = {c.zone_id: c for c in session.scalars(select(CaseRow))}
            episodes = session.execute(select(EpisodeRow.case_id, func.count()).group_by(EpisodeRow.case_id)).all()
            timeline = sorted((t.case_id, t.action) for t in session.scalars(select(TimelineRow)))
            outbox = sorted((c.case_id, c.kind) for c in session.scalars(select(ChangeRow)))
        assert sorted(cases) == ["zone-0", "zone-1", "zone-2"]
        assert [cases[z].episodes for z in sorted(cases)] == [2, 1, 1]
        assert sorted(n for _case, n in episodes) == [1, 1, 2]
        expected = sorted([(cases["zone-0"].id, "created"), (cases["zone-0"].id, "merged"),
                           (cases["zone-1"].id, "created"), (cases["zone-2"].id, "created")])
        assert timeline == expected
        assert outbox == expected
    finally:
        for engine in (migrate_engine, engine_a, engine_b):
            engine.dispose()
