"""Payments name their provider and product, and keep our state beside the provider's own.

Every existing order is WeChat Pay H5, so the new columns are filled from its states.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# WeChat trade_state -> our PaymentState (as adapters/payments/wechatpay/states.py maps it,
# copied here: a migration must not change when the code does).
_STATE_OF = """
    CASE provider_state
        WHEN 'SUCCESS' THEN 'PAID'
        WHEN 'REFUND' THEN 'REFUNDED'
        WHEN 'CLOSED' THEN 'CLOSED'
        WHEN 'REVOKED' THEN 'CLOSED'
        WHEN 'PAYERROR' THEN 'FAILED'
        ELSE 'PENDING'
    END
"""


def upgrade() -> None:
    op.alter_column("payments", "trade_state", new_column_name="provider_state")
    op.add_column(
        "payments",
        sa.Column("provider", sa.String(length=32), nullable=False, server_default="wechatpay"),
    )
    op.add_column(
        "payments",
        sa.Column("product", sa.String(length=16), nullable=False, server_default="h5"),
    )
    op.add_column(
        "payments",
        sa.Column("state", sa.String(length=16), nullable=False, server_default="PENDING"),
    )
    op.execute(f"UPDATE payments SET state = {_STATE_OF}")
    # New orders always say their state; the default only filled the rows already there.
    op.alter_column("payments", "state", server_default=None)


def downgrade() -> None:
    op.drop_column("payments", "state")
    op.drop_column("payments", "product")
    op.drop_column("payments", "provider")
    op.alter_column("payments", "provider_state", new_column_name="trade_state")
