"""The governance centre: case life cycle, episodes, timeline, users, change outbox, webhook deliveries.

Case ids become 64-bit in PostgreSQL (SQLite's are already). Existing cases keep their single
episode, and an open case per camera, zone and class becomes unique.

Revision ID: 0002_centre
Revises: 0001_cases
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_centre"
down_revision = "0001_cases"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OPEN = "status IN ('new', 'confirmed', 'dispatched', 'resolved', 'reopened')"

_CASE_COLUMNS = [
    sa.Column("zone_name", sa.String(128), nullable=True),
    sa.Column("priority_rank", sa.Integer(), nullable=False, server_default="1"),
    sa.Column("after_evidence", sa.String(255), nullable=True),
    sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("episodes", sa.Integer(), nullable=False, server_default="1"),
    sa.Column("assignee", sa.String(128), nullable=True),
    sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
    sa.Column("escalated", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("dismiss_reason", sa.String(32), nullable=True),
    sa.Column("verification", sa.String(20), nullable=True),
    sa.Column("verification_note", sa.String(500), nullable=True),
    sa.Column("verification_id", sa.String(64), nullable=True),
    sa.Column("verification_requested_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("lon", sa.Float(), nullable=True),
    sa.Column("lat", sa.Float(), nullable=True),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.alter_column("cases", "id", type_=sa.BigInteger())
        op.execute("ALTER SEQUENCE IF EXISTS cases_id_seq AS bigint")
        op.alter_column("case_events", "id", type_=sa.BigInteger())
        op.execute("ALTER SEQUENCE IF EXISTS case_events_id_seq AS bigint")
        op.alter_column("case_events", "case_id", type_=sa.BigInteger())
    for column in _CASE_COLUMNS:
        op.add_column("cases", column)
    op.execute("UPDATE cases SET priority_rank = CASE priority WHEN 'low' THEN 0 WHEN 'high' THEN 2 ELSE 1 END")
    _merge_open_duplicates()
    op.create_index("uq_cases_open_per_zone", "cases", ["camera_id", "zone_id", "problem"], unique=True,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    op.create_index("ix_cases_status_created", "cases", ["status", "created_at", "id"])
    op.create_index("ix_cases_created", "cases", ["created_at", "id"])
    op.create_index("ix_cases_grid", "cases", ["grid"])
    op.create_index("ix_cases_deadline_open", "cases", ["deadline"],
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    op.drop_index("ix_cases_status", table_name="cases")

    op.create_index("ix_case_episodes_case_id", "case_episodes", ["case_id"])
    op.create_table(
        "case_timeline",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("case_id", Id, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
    )
    op.create_index("ix_case_timeline_case_id", "case_timeline", ["case_id"])
    op.create_table(
        "case_changes",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("webhooks_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_case_changes_case_id", "case_changes", ["case_id"])
    op.create_index("ix_case_changes_unpublished", "case_changes", ["id"],
                    sqlite_where=sa.text("published_at IS NULL"), postgresql_where=sa.text("published_at IS NULL"))
    op.create_index("ix_case_changes_unfanned", "case_changes", ["id"],
                    sqlite_where=sa.text("webhooks_at IS NULL"), postgresql_where=sa.text("webhooks_at IS NULL"))
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("change_id", Id, nullable=False),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("webhook", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("change_id", "webhook", name="uq_webhook_delivery"),
    )
    op.create_index("ix_webhook_deliveries_case_id", "webhook_deliveries", ["case_id"])
    op.create_index("ix_webhook_due", "webhook_deliveries", ["status", "next_attempt_at"])
    op.create_table(
        "users",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("display_name", sa.String(128), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "app_settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )


def _merge_open_duplicates() -> None:
    """Record each existing case as an episode, then fold later open cases of one camera, zone and class
    into the earliest, as the new consumer would have done, so the uniqueness of open cases holds."""
    bind = op.get_bind()
    op.create_table(
        "case_episodes",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("case_id", Id, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute(
        "INSERT INTO case_episodes (event_id, case_id, start_s, end_s, created_at) "
        "SELECT event_id, id, start_s, end_s, created_at FROM cases"
    )
    rows = bind.execute(sa.text(f"SELECT id, camera_id, zone_id, problem FROM cases WHERE {OPEN} ORDER BY id")).all()
    first: dict[tuple[str, str, str], int] = {}
    for case_id, camera_id, zone_id, problem in rows:
        keep = first.setdefault((camera_id, zone_id, problem), case_id)
        if keep == case_id:
            continue
        for table in ("case_episodes", "case_events"):
            bind.execute(sa.text(f"UPDATE {table} SET case_id = :keep WHERE case_id = :old"),
                         {"keep": keep, "old": case_id})
        bind.execute(sa.text("DELETE FROM cases WHERE id = :old"), {"old": case_id})
    op.execute("UPDATE cases SET episodes = (SELECT COUNT(*) FROM case_episodes e WHERE e.case_id = cases.id)")
    op.execute("UPDATE cases SET active = EXISTS "
               "(SELECT 1 FROM case_episodes e WHERE e.case_id = cases.id AND e.end_s IS NULL)")


def downgrade() -> None:
    for table in ("app_settings", "users", "webhook_deliveries", "case_changes", "case_timeline", "case_episodes"):
        op.drop_table(table)
    op.create_index("ix_cases_status", "cases", ["status"])
    for index in ("ix_cases_deadline_open", "ix_cases_grid", "ix_cases_created", "ix_cases_status_created",
                  "uq_cases_open_per_zone"):
        op.drop_index(index, table_name="cases")
    with op.batch_alter_table("cases") as batch:
        for column in reversed(_CASE_COLUMNS):
            batch.drop_column(column.name)
