"""A per-account token version: every token carries the version it was issued under, and each request checks
it against the account, so disabling an account, changing its role or password, or logging out ends its
tokens at once on every replica (a token's own claims are no longer trusted for longer than one request).

Revision ID: 0006_token_version
Revises: 0005_case_list_indexes
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_token_version"
down_revision = "0005_case_list_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("token_version", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("token_version")
