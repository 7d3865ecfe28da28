"""Labels from the centre (a zone shows a problem or is clear of it, on a given picture); why a case fired.

Revision ID: 0004_labels
Revises: 0003_zones
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_labels"
down_revision = "0003_zones"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "zone_labels",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("zone_id", sa.String(64), nullable=False),
        sa.Column("problem", sa.String(40), nullable=False),
        sa.Column("positive", sa.Boolean(), nullable=False),
        sa.Column("image", sa.String(255), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("case_id", Id, nullable=True),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_zone_labels_camera_id", "zone_labels", ["camera_id"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("reasons", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("reasons")
    op.drop_table("zone_labels")
