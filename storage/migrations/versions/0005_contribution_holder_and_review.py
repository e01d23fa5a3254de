"""Contributions keep who holds their months and why they wait for review: every read is storage's.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "contributions",
        sa.Column("holder_contribution_id", sa.String(length=40), nullable=True),
    )
    op.add_column("contributions", sa.Column("review_reason", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contributions") as batch:
        batch.drop_column("review_reason")
        batch.drop_column("holder_contribution_id")
