"""Daily reconciliation reports (对账).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reconciliation_reports",
        sa.Column("bill_date", sa.Date(), nullable=False),
        sa.Column("workflow_id", sa.String(length=128), nullable=False),
        sa.Column("clean", sa.Boolean(), nullable=False),
        sa.Column("bill_payments", sa.Integer(), nullable=False),
        sa.Column("bill_payment_fen", sa.BigInteger(), nullable=False),
        sa.Column("missed_callbacks", sa.Integer(), nullable=False),
        sa.Column("orphan_payments", sa.Integer(), nullable=False),
        sa.Column("amount_mismatches", sa.Integer(), nullable=False),
        sa.Column("stuck_refunds", sa.Integer(), nullable=False),
        sa.Column("missing_from_bill", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bill_date", name=op.f("pk_reconciliation_reports")),
    )


def downgrade() -> None:
    op.drop_table("reconciliation_reports")
