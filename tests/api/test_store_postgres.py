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
