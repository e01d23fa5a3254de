"""Official yearly calendar tables, the provisional flag of expected dates, women's original age.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_tables",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holidays", sa.JSON(), nullable=False),
        sa.Column("workdays", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_calendar_tables")),
    )
    # Rows written before this revision were computed without the flag: not provisional.
    op.add_column(
        "contributions",
        sa.Column(
            "expected_treasury_provisional",
            sa.Boolean(),
            nullable=False,
            server_default=sa.false(),
        ),
    )
    # NULL: the registration did not say, and the pre-reform default (55) applies.
    op.add_column("persons", sa.Column("women_original_age", sa.SmallInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("persons", "women_original_age")
    op.drop_column("contributions", "expected_treasury_provisional")
    op.drop_table("calendar_tables")
