"""Certificates (完税证明) and the captchas of the certificate query.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "captchas",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("answer_hash", sa.String(length=64), nullable=False),
        sa.Column("client_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_captchas")),
    )
    op.create_index(op.f("ix_captchas_client_key"), "captchas", ["client_key"], unique=False)
    op.create_index(op.f("ix_captchas_created_at"), "captchas", ["created_at"], unique=False)

    op.create_table(
        "certificates",
        sa.Column("certificate_no", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("insurance", sa.String(length=16), nullable=False),
        sa.Column("from_month", sa.String(length=7), nullable=False),
        sa.Column("to_month", sa.String(length=7), nullable=False),
        sa.Column("verify_code_hash", sa.String(length=64), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_certificates_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("certificate_no", name=op.f("pk_certificates")),
    )
    op.create_index(op.f("ix_certificates_person_id"), "certificates", ["person_id"], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes.
    op.drop_table("certificates")
    op.drop_table("captchas")
