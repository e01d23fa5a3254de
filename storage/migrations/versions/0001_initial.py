"""Initial schema: persons, contributions and everything around them.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("contribution_id", sa.String(length=40), nullable=True),
        sa.Column("response", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "payment_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("out_trade_no", sa.String(length=32), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_payment_events")),
    )
    op.create_index(
        op.f("ix_payment_events_out_trade_no"), "payment_events", ["out_trade_no"], unique=False
    )

    op.create_table(
        "persons",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("id_type", sa.String(length=32), nullable=False),
        sa.Column("id_number", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("sex", sa.String(length=8), nullable=True),
        sa.Column("payer_ref", sa.String(length=40), nullable=False),
        sa.Column("city", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("id_type", "id_number", name=op.f("uq_persons_id_type_id_number")),
    )
    op.create_index(op.f("ix_persons_payer_ref"), "persons", ["payer_ref"], unique=True)

    op.create_table(
        "policies",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("insurance", sa.String(length=16), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("year", "insurance", name=op.f("pk_policies")),
    )
    op.create_table(
        "contributions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("payer_ref", sa.String(length=40), nullable=False),
        sa.Column("insurance", sa.String(length=16), nullable=False),
        sa.Column("months", sa.JSON(), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("back_payment", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("quote_id", sa.String(length=40), nullable=True),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("reject_reason", sa.String(length=32), nullable=True),
        sa.Column("out_trade_no", sa.String(length=32), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expected_treasury_date", sa.Date(), nullable=True),
        sa.Column("requested_by_person_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_contributions_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_person_id"],
            ["persons.id"],
            name=op.f("fk_contributions_requested_by_person_id_persons"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contributions")),
    )
    op.create_index(
        op.f("ix_contributions_payer_ref"), "contributions", ["payer_ref"], unique=False
    )
    op.create_index(
        op.f("ix_contributions_person_id"), "contributions", ["person_id"], unique=False
    )
    op.create_index(op.f("ix_contributions_status"), "contributions", ["status"], unique=False)

    op.create_table(
        "quotes",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("requested_by_person_id", sa.String(length=32), nullable=True),
        sa.Column("insurance", sa.String(length=16), nullable=False),
        sa.Column("months", sa.JSON(), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("back_payment", sa.Boolean(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_quotes_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_person_id"],
            ["persons.id"],
            name=op.f("fk_quotes_requested_by_person_id_persons"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quotes")),
    )
    op.create_table(
        "registrations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("insurance", sa.String(length=16), nullable=False),
        sa.Column("start_month", sa.String(length=7), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_registrations_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registrations")),
        sa.UniqueConstraint(
            "person_id", "insurance", name=op.f("uq_registrations_person_id_insurance")
        ),
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_sessions_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_sessions")),
    )
    op.create_index(op.f("ix_sessions_person_id"), "sessions", ["person_id"], unique=False)

    op.create_table(
        "certifiable_months",
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("insurance", sa.String(length=16), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("contribution_id", sa.String(length=40), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("treasury_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contributions.id"],
            name=op.f("fk_certifiable_months_contribution_id_contributions"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_certifiable_months_person_id_persons")
        ),
        sa.PrimaryKeyConstraint(
            "person_id", "insurance", "month", name=op.f("pk_certifiable_months")
        ),
    )
    op.create_index(
        op.f("ix_certifiable_months_contribution_id"),
        "certifiable_months",
        ["contribution_id"],
        unique=False,
    )

    op.create_table(
        "contribution_months",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("contribution_id", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("insurance", sa.String(length=16), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("base_fen", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("interest_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contributions.id"],
            name=op.f("fk_contribution_months_contribution_id_contributions"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_contribution_months_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contribution_months")),
        sa.UniqueConstraint(
            "contribution_id", "month", name=op.f("uq_contribution_months_contribution_id_month")
        ),
    )
    op.create_index(
        op.f("ix_contribution_months_person_id_month"),
        "contribution_months",
        ["person_id", "month"],
        unique=False,
    )

    op.create_table(
        "month_reservations",
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("insurance", sa.String(length=16), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("contribution_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contributions.id"],
            name=op.f("fk_month_reservations_contribution_id_contributions"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_month_reservations_person_id_persons")
        ),
        sa.PrimaryKeyConstraint(
            "person_id", "insurance", "month", name=op.f("pk_month_reservations")
        ),
    )
    op.create_index(
        op.f("ix_month_reservations_contribution_id"),
        "month_reservations",
        ["contribution_id"],
        unique=False,
    )

    op.create_table(
        "payments",
        sa.Column("out_trade_no", sa.String(length=32), nullable=False),
        sa.Column("contribution_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trade_state", sa.String(length=16), nullable=False),
        sa.Column("transaction_id", sa.String(length=64), nullable=True),
        sa.Column("bank_type", sa.String(length=32), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contributions.id"],
            name=op.f("fk_payments_contribution_id_contributions"),
        ),
        sa.PrimaryKeyConstraint("out_trade_no", name=op.f("pk_payments")),
    )
    op.create_index(
        op.f("ix_payments_contribution_id"), "payments", ["contribution_id"], unique=False
    )

    op.create_table(
        "postings",
        sa.Column("contribution_id", sa.String(length=40), nullable=False),
        sa.Column("posting_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contributions.id"],
            name=op.f("fk_postings_contribution_id_contributions"),
        ),
        sa.PrimaryKeyConstraint("contribution_id", name=op.f("pk_postings")),
    )
    op.create_table(
        "refunds",
        sa.Column("out_refund_no", sa.String(length=64), nullable=False),
        sa.Column("contribution_id", sa.String(length=40), nullable=False),
        sa.Column("out_trade_no", sa.String(length=32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("refund_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=80), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contributions.id"],
            name=op.f("fk_refunds_contribution_id_contributions"),
        ),
        sa.PrimaryKeyConstraint("out_refund_no", name=op.f("pk_refunds")),
    )
    op.create_index(
        op.f("ix_refunds_contribution_id"), "refunds", ["contribution_id"], unique=False
    )

    op.create_table(
        "status_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("contribution_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contributions.id"],
            name=op.f("fk_status_history_contribution_id_contributions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_history")),
    )
    op.create_index(
        op.f("ix_status_history_contribution_id"),
        "status_history",
        ["contribution_id"],
        unique=False,
    )

    op.create_table(
        "treasury_receipts",
        sa.Column("contribution_id", sa.String(length=40), nullable=False),
        sa.Column("receipt_no", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("treasury_date", sa.Date(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contributions.id"],
            name=op.f("fk_treasury_receipts_contribution_id_contributions"),
        ),
        sa.PrimaryKeyConstraint("contribution_id", name=op.f("pk_treasury_receipts")),
    )


def downgrade() -> None:
    # Children before parents; dropping a table drops its indexes.
    for table in (
        "certifiable_months",
        "treasury_receipts",
        "postings",
        "refunds",
        "payments",
        "status_history",
        "month_reservations",
        "contribution_months",
        "contributions",
        "quotes",
        "sessions",
        "registrations",
        "policies",
        "persons",
        "payment_events",
        "idempotency_keys",
        "audit_log",
    ):
        op.drop_table(table)
