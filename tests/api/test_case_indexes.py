"""The case list's indexes (migration 0005) on the real PostgreSQL, and the ORM declaring the same ones."""

from __future__ import annotations

from sqlalchemy import inspect, text

from api.db import make_engine, migrate

NEW = {
    "ix_cases_problem_created": ["problem", "created_at", "id"],
    "ix_cases_camera_id_created": ["camera_id", "created_at", "id"],
    "ix_cases_grid_created": ["grid", "created_at", "id"],
    "ix_cases_priority_created": ["priority_rank", "created_at", "id"],
    "ix_cases_updated": ["updated_at", "id"],
}


def test_migrations_build_every_case_list_index_and_the_orm_agrees(postgres_url: str):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from api.orm import Base

    engine = make_engine(postgres_url)
    try:
        migrate(engine)
        indexes = {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("cases")}
        for name, columns in NEW.items():
            assert indexes.get(name) == columns, name
        # Replaced by the composites, which serve the same equality lookups.
        assert not {"ix_cases_problem", "ix_cases_camera_id", "ix_cases_grid"} & set(indexes)
        with engine.connect() as connection:
            deadline = connection.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = "
                                               "'ix_cases_deadline_order'")).scalar_one()
            assert "COALESCE(deadline, '9999-01-01 00:00:00+00'::timestamp with time zone), id" in deadline
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        index_changes = [d for d in diff if isinstance(d, tuple) and d[0] in ("add_index", "remove_index")
                         and d[1].table.name == "cases" and d[1].name != "ix_cases_deadline_order"]
        assert index_changes == []
    finally:
        engine.dispose()
