"""A city's worth of cases in PostgreSQL, made on the server, and the plans the case list gets on them.

The case-list benchmark needs a million realistic rows in seconds, not the hours the consumer would
take: one INSERT ... SELECT FROM generate_series writes them on the server (no rows cross the socket),
on the schema the API's own Alembic migrations build. A database already holding the wanted count
from the same recipe is re-used, so reruns go straight to the load.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from api.db import make_engine, migrate

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SEED_RECIPE = "cases-v2"  # bump when the recipe below changes, so old seeds are remade
CAMERAS = 237
GRIDS = 40
ZONES_PER_CAMERA = 12
OPEN_WINDOW_DAYS = 14  # the newest case of a zone in the last two weeks is still being worked on
# (problem, share in %): parking dominates a city's reports, standing water is rare.
PROBLEMS = (("illegal_parking_motor", 30), ("illegal_parking_nonmotor", 20), ("street_vending", 12),
            ("outside_store_business", 12), ("exposed_garbage", 12), ("overflowing_bin", 8),
            ("standing_water", 6))
ZONE_KINDS = ("no_parking", "road", "shop_front", "no_vending", "bin_area", "general", "school", "hospital")


class BenchDatabaseError(RuntimeError):
    """PostgreSQL is missing or refused what the benchmark needs; the message is one line for the user."""


@dataclass(frozen=True)
class SeedInfo:
    url: str
    cases: int
    open_cases: int
    reused: bool
    seconds: float


def database_url(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def ensure_database(server_url: str, name: str, fresh: bool = False) -> str:
    """The URL of database `name` on the server, created when missing; `fresh`: made again, empty."""
    if name in ("test", "postgres", "template0", "template1"):
        raise BenchDatabaseError(f"refusing to seed database {name!r}: the benchmark keeps to its own databases")
    admin = make_engine(server_url, statement_timeout_s=60).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            if fresh:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            found = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if found is None:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise BenchDatabaseError(f"PostgreSQL is not reachable at {_safe(server_url)}: {first}") from None
    finally:
        admin.dispose()
    return database_url(server_url, name)


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _marker(n: int) -> str:
    return f"{SEED_RECIPE}:{n}"


def seed(url: str, n: int, progress: Any = None) -> SeedInfo:
    """Migrate the database as the API does and fill it with `n` cases, unless it already holds that seed."""
    say = progress or (lambda _m: None)
    started = time.perf_counter()
    engine = make_engine(url, statement_timeout_s=3600)
    try:
        migrate(engine)
        with engine.connect() as connection:
            mark = connection.execute(text("SELECT value FROM app_settings WHERE key = 'bench_seed'")).scalar()
            count = connection.execute(text("SELECT count(*) FROM cases")).scalar_one()
        if mark == _marker(n) and count == n:
            say(f"re-using {n:,} cases already seeded in {make_url(url).database}")
            return SeedInfo(url, n, _open_count(engine), True, time.perf_counter() - started)
        say(f"seeding {n:,} cases in {make_url(url).database} (was {count:,})")
        _fill(engine, n)
        say(f"  {n:,} cases written in {time.perf_counter() - started:.1f} s; VACUUM ANALYZE")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE cases"))
        return SeedInfo(url, n, _open_count(engine), False, time.perf_counter() - started)
    except (OperationalError, ProgrammingError) as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise BenchDatabaseError(f"seeding {_safe(url)} failed: {first}") from None
    finally:
        engine.dispose()


def _open_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM cases WHERE status NOT IN "
                                           "('closed', 'dismissed')")).scalar_one())


def _problem_sql() -> str:
    """A CASE over a hash bucket 0..99 that gives each problem its share."""
    parts, edge = [], 0
    for name, share in PROBLEMS:
        edge += share
        parts.append(f"WHEN h.p < {edge} THEN '{name}'")
    return "CASE " + " ".join(parts) + " END"


FILL_SQL = """
INSERT INTO cases (event_id, problem, camera_id, zone_id, zone_kind, zone_name, status, priority, priority_rank,
                   grid, label, confidence, bbox, reasons, evidence, after_evidence, since_s, start_s, last_seen_s,
                   end_s, active, episodes, assignee, deadline, escalated, dismiss_reason, verification, lon, lat,
                   created_at, updated_at, closed_at)
SELECT 'bench-' || g.i, {problem}, 'cam-' || lpad(h.cam::text, 3, '0'), 'zone-' || h.zone,
       (ARRAY{zone_kinds})[1 + (h.cam + h.zone) % {kinds}], 'zone ' || h.zone || ' of cam-' || h.cam,
       CASE WHEN h.d < 12 THEN 'dismissed' ELSE 'closed' END,
       (ARRAY['low', 'normal', 'high', 'urgent'])[1 + h.r], h.r,
       'grid-' || lpad((1 + h.cam % {grids})::text, 2, '0'), 'car', 0.5 + (h.p % 50) / 100.0,
       '[0.1, 0.2, 0.3, 0.4]'::json, '["bench seed"]'::json,
       'cam-' || lpad(h.cam::text, 3, '0') || '/bench-' || g.i || '.jpg',
       CASE WHEN h.d >= 12 THEN 'cam-' || lpad(h.cam::text, 3, '0') || '/bench-' || g.i || '-after.jpg' END,
       0.0, 0.0, 60.0 + h.p, 120.0 + h.p, false, 1 + h.p % 3,
       CASE WHEN h.d >= 40 THEN 'team-' || (1 + h.cam % 25) END,
       h.t + (ARRAY[72, 24, 8, 2])[1 + h.r] * interval '1 hour', h.d % 17 = 0,
       CASE WHEN h.d < 12 THEN (ARRAY['false_alarm', 'duplicate', 'not_our_business'])[1 + h.d % 3] END,
       CASE WHEN h.d >= 12 THEN 'passed' END,
       116.3 + h.cam / 1000.0, 39.9 + h.zone / 1000.0,
       h.t, h.t + (1 + h.d % 48) * interval '1 hour', h.t + (1 + h.d % 48) * interval '1 hour'
FROM generate_series(1, CAST(:n AS bigint)) AS g(i)
CROSS JOIN LATERAL (
    SELECT abs(hashint8extended(g.i, 1)) % {cameras} + 1 AS cam, abs(hashint8extended(g.i, 2)) % {zones} + 1 AS zone,
           abs(hashint8extended(g.i, 3)) % 100 AS p, abs(hashint8extended(g.i, 4)) % 100 AS d,
           CASE WHEN abs(hashint8extended(g.i, 5)) % 100 < 3 THEN 3 WHEN abs(hashint8extended(g.i, 5)) % 100 < 18
                THEN 2 WHEN abs(hashint8extended(g.i, 5)) % 100 < 80 THEN 1 ELSE 0 END AS r,
           now() - interval '365 days' + (g.i - 1) * (interval '365 days' / :n)
                 + abs(hashint8extended(g.i, 6)) % 600 * interval '1 second' AS t
) AS h
"""

# The newest case of each camera, zone and class in the last two weeks is still open (the partial unique index
# allows one open case per zone and class): new, confirmed, dispatched, resolved or reopened.
OPEN_SQL = """
UPDATE cases SET status = (ARRAY['new', 'confirmed', 'dispatched', 'dispatched', 'resolved', 'reopened'])
                          [1 + id % 6],
                 closed_at = NULL, dismiss_reason = NULL, verification = NULL, active = true, after_evidence = NULL,
                 updated_at = created_at + interval '5 minutes'
WHERE id IN (SELECT DISTINCT ON (camera_id, zone_id, problem) id FROM cases
             WHERE created_at > now() - make_interval(days => {days})
             ORDER BY camera_id, zone_id, problem, created_at DESC)
"""


def _fill(engine: Engine, n: int) -> None:
    kinds = "[" + ", ".join(f"'{k}'" for k in ZONE_KINDS) + "]"
    fill = FILL_SQL.format(problem=_problem_sql(), zone_kinds=kinds, kinds=len(ZONE_KINDS), grids=GRIDS,
                           cameras=CAMERAS, zones=ZONES_PER_CAMERA)
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE cases, case_episodes, case_events, case_timeline, case_changes, "
                                "webhook_deliveries RESTART IDENTITY"))
        connection.execute(text("DELETE FROM app_settings WHERE key = 'bench_seed'"))
        connection.execute(text(fill), {"n": n})
        connection.execute(text(OPEN_SQL.format(days=OPEN_WINDOW_DAYS)))
        connection.execute(text("INSERT INTO app_settings (key, value) VALUES ('bench_seed', :v)"),
                           {"v": _marker(n)})


def explain(url: str, sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """EXPLAIN (ANALYZE, BUFFERS) of one statement: its plan text, and whether it scans or sorts the table."""
    engine = make_engine(url, statement_timeout_s=120)
    try:
        with engine.connect() as connection:
            lines = [r[0] for r in connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)]
    finally:
        engine.dispose()
    plan = "\n".join(lines)
    took = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("Execution Time")), "?")
    return {"plan": plan, "seq_scan": "Seq Scan on cases" in plan,
            "sort": any("Sort Method" in line for line in lines), "execution": took}
