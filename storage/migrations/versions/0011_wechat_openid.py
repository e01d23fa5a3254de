"""WeChat openids bound to persons, so a returning payer inside WeChat is recognised.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wechat_openids",
        sa.Column("openid", sa.String(length=128), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("bound_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_wechat_openids_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("openid", name=op.f("pk_wechat_openids")),
    )
    op.create_index(
        op.f("ix_wechat_openids_person_id"), "wechat_openids", ["person_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_wechat_openids_person_id"), table_name="wechat_openids")
    op.drop_table("wechat_openids")
