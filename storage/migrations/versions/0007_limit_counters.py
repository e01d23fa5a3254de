"""Limits every API process shares: fixed-window counters keyed on a keyed hash.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "limit_counters",
        sa.Column("key", sa.String(length=96), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_limit_counters")),
    )
    op.create_index(
        op.f("ix_limit_counters_expires_at"), "limit_counters", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_limit_counters_expires_at"), table_name="limit_counters")
    op.drop_table("limit_counters")
