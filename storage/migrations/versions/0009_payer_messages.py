"""Messages to payers (消息) and their reminder choice.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=96), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=64), nullable=False),
        sa.Column("body", sa.String(length=1000), nullable=False),
        sa.Column("link", sa.String(length=200), nullable=False),
        sa.Column("contribution_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("wechat_state", sa.String(length=16), nullable=False),
        sa.Column("wechat_msgid", sa.String(length=64), nullable=True),
        sa.Column("wechat_error", sa.String(length=32), nullable=True),
        sa.Column("wechat_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_messages_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("key", name=op.f("uq_messages_key")),
    )
    op.create_index("ix_messages_person_id_created_at", "messages", ["person_id", "created_at"])
    op.create_table(
        "message_settings",
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("reminders", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_message_settings_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_message_settings")),
    )


def downgrade() -> None:
    op.drop_table("message_settings")
    op.drop_index("ix_messages_person_id_created_at", table_name="messages")
    op.drop_table("messages")
