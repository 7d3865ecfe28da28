"""Indexes for the case list at a city's scale: every filter and sort the list offers reads in index order.

On a million cases (`streetwatch bench cases`, docs/performance.md) the sorts by priority, deadline and
last update read the whole table and sorted it (about a second a page), and a camera or grid filter walked
the newest cases until enough matched. Each filter now has (column, created_at, id), which also serves its
old single-column lookups, so those are dropped; each sort has an index in its own order.

Revision ID: 0005_case_list_indexes
Revises: 0004_labels
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_case_list_indexes"
down_revision = "0004_labels"
branch_labels = None
depends_on = None

# The deadline sort's key, as api.services.queries writes it (cases without a deadline last); PostgreSQL only.
DEADLINE_KEY = "coalesce(deadline, '9999-01-01 00:00:00+00'::timestamptz)"
FILTERS = ("problem", "camera_id", "grid")


def upgrade() -> None:
    for column in FILTERS:
        op.drop_index(f"ix_cases_{column}", table_name="cases")
        op.create_index(f"ix_cases_{column}_created", "cases", [column, "created_at", "id"])
    op.create_index("ix_cases_priority_created", "cases", ["priority_rank", "created_at", "id"])
    op.create_index("ix_cases_updated", "cases", ["updated_at", "id"])
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_cases_deadline_order", "cases", [sa.text(DEADLINE_KEY), "id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_cases_deadline_order", table_name="cases")
    op.drop_index("ix_cases_updated", table_name="cases")
    op.drop_index("ix_cases_priority_created", table_name="cases")
    for column in FILTERS:
        op.drop_index(f"ix_cases_{column}_created", table_name="cases")
        op.create_index(f"ix_cases_{column}", "cases", [column])
