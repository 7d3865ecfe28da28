"""Engine, sessions and schema migrations (Alembic, run on start-up)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 0x57EE7  # advisory lock key held while migrating ("StreetWatch")


def make_engine(url: str, statement_timeout_s: float = 15.0, pool_size: int = 10) -> Engine:
    """An engine that never waits forever: connecting, a statement, a lock and a pooled connection all time out,
    so a hung database gives 503s (and a consumer that backs off) instead of a frozen API."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": statement_timeout_s})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    milliseconds = int(statement_timeout_s * 1000)
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=5,
        pool_recycle=1800,
        connect_args={
            "connect_timeout": 3,
            "options": f"-c statement_timeout={milliseconds} -c lock_timeout={milliseconds} "
                       f"-c idle_in_transaction_session_timeout={milliseconds * 4}",
        },
    )


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; safe to run on every start, by several API replicas at once.

    On PostgreSQL a transaction-scoped advisory lock makes replicas starting together migrate one after
    the other: the first upgrades, the others find the schema at head and do nothing.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)
