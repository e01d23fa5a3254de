"""Simulator state tables (own MetaData, no Alembic, created here) and forced outcomes.

The engine comes from whoever wires the simulators (storage.db.make_engine).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out; a naive value is refused rather than guessed at."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the simulator store")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.astimezone(UTC)


# Simulator state is not production schema: its own MetaData, created with create_all.
metadata = MetaData()

orders = Table(
    "sim_orders",
    metadata,
    Column("out_trade_no", String(32), primary_key=True),
    Column("description", String(256), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("time_expire", UTCDateTime, nullable=False),
    Column("channel", String(32), nullable=False),
    Column("notify_url", String(512), nullable=False),
    Column("payer_openid", String(128)),
    Column("prepay_id", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("trade_state", String(16), nullable=False),
    Column("transaction_id", String(32)),
    Column("payer_total_fen", BigInteger),
    Column("success_time", UTCDateTime),
    Column("bank_type", String(32)),
    Column("closed_at", UTCDateTime),
)

refunds = Table(
    "sim_refunds",
    metadata,
    Column("out_refund_no", String(64), primary_key=True),
    Column("out_trade_no", String(32), nullable=False, index=True),
    Column("refund_id", String(32), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("total_fen", BigInteger, nullable=False),
    Column("reason", String(80), nullable=False),
    Column("notify_url", String(512)),
    Column("status", String(16), nullable=False),
    # The outcome decided when the refund was accepted (forced or SUCCESS); applied at ready_at.
    Column("final_status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("ready_at", UTCDateTime, nullable=False),
    Column("success_time", UTCDateTime),
    Column("user_received_account", String(64)),
)

notifications = Table(
    "sim_notifications",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("event_type", String(32), nullable=False),
    Column("out_trade_no", String(32), nullable=False, index=True),
    Column("out_refund_no", String(64)),
    Column("payload", JSON, nullable=False),
    Column("notify_url", String(512)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("delivered_at", UTCDateTime),
    Column("abandoned_at", UTCDateTime),
    Column("lost", Boolean, nullable=False, default=False),
    Column("duplicate_of", String(64)),
)

forces = Table(
    "sim_forces",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("reason", String(200)),
    Column("remaining", Integer),  # None: applies until replaced
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_sim_forces_kind_amount", "kind", "amount_fen"),
)

postings = Table(
    "sim_postings",
    metadata,
    Column("posting_id", String(40), primary_key=True),
    Column("posting_ref", String(64), nullable=False, unique=True),
    Column("payer_ref", String(128), nullable=False),
    Column("insurance", String(32), nullable=False),
    Column("months", JSON, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("paid_at", UTCDateTime, nullable=False),
    Column("submitted_at", UTCDateTime, nullable=False),
    Column("ready_at", UTCDateTime, nullable=False),
    # Decided at submission so every status query, in any process, sees the same outcome.
    Column("planned_state", String(16), nullable=False),
    Column("planned_reason", String(200)),
    Column("state", String(16), nullable=False),
    Column("reason", String(200)),
    Column("confirmed_at", UTCDateTime),
)

treasury_receipts = Table(
    "sim_treasury_receipts",
    metadata,
    Column("voucher_no", String(32), primary_key=True),
    Column("amount_fen", BigInteger, nullable=False),
    Column("paid_at", UTCDateTime, nullable=False),
    Column("lag_business_days", Integer, nullable=False),
    Column("first_query_at", UTCDateTime, nullable=False),
    Column("ready_at", UTCDateTime, nullable=False),
    Column("receipt_no", String(32)),
    Column("received_at", UTCDateTime),
)


# 模板消息 the 公众号 was asked to send (the local gateway's, or the in-process simulator's).
mp_messages = Table(
    "sim_mp_messages",
    metadata,
    Column("msgid", String(32), primary_key=True),
    Column("openid", String(128), nullable=False, index=True),
    Column("template_id", String(64), nullable=False),
    Column("url", String(512), nullable=False),
    Column("data", JSON, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
)


async def create_sim_tables(engine: AsyncEngine) -> None:
    """Create the simulator tables if missing (idempotent)."""
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
    except (OperationalError, ProgrammingError):
        # The API and the worker start together: both may see a table missing and race to
        # create it. The loser retries once; by then the check finds every table.
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)


def new_digits(n: int) -> str:
    """n random decimal digits for provider-style identifiers (never from personal data)."""
    return "".join(str(secrets.randbelow(10)) for _ in range(n))


@dataclass(frozen=True)
class Forced:
    outcome: str
    reason: str | None


async def add_force(
    engine: AsyncEngine,
    *,
    kind: str,
    amount_fen: int,
    outcome: str,
    now: datetime,
    times: int | None = None,
    reason: str | None = None,
) -> None:
    """Store a forced outcome; a standing (times=None) force replaces the previous standing one."""
    if times is not None and times < 1:
        raise ValueError("times must be at least 1, or None for a standing force")
    async with engine.begin() as conn:
        if times is None:
            await conn.execute(
                delete(forces).where(
                    forces.c.kind == kind,
                    forces.c.amount_fen == amount_fen,
                    forces.c.remaining.is_(None),
                )
            )
        await conn.execute(
            insert(forces).values(
                kind=kind,
                amount_fen=amount_fen,
                outcome=outcome,
                reason=reason,
                remaining=times,
                created_at=now,
            )
        )


async def take_force(conn: AsyncConnection, *, kind: str, amount_fen: int) -> Forced | None:
    """Consume the forced outcome that applies to this call, if any.

    Counted forces apply first, oldest first ("the next 2 calls"); then the newest standing
    force. Counts are decremented with compare-and-set so two processes never both consume
    the last one.
    """
    for _ in range(20):
        rows = (
            await conn.execute(
                select(forces.c.id, forces.c.outcome, forces.c.reason, forces.c.remaining).where(
                    forces.c.kind == kind,
                    forces.c.amount_fen == amount_fen,
                    (forces.c.remaining.is_(None)) | (forces.c.remaining > 0),
                )
            )
        ).all()
        if not rows:
            return None
        counted = sorted((r for r in rows if r.remaining is not None), key=lambda r: r.id)
        if not counted:
            standing = max(rows, key=lambda r: r.id)
            return Forced(outcome=standing.outcome, reason=standing.reason)
        row = counted[0]
        result = await conn.execute(
            update(forces)
            .where(forces.c.id == row.id, forces.c.remaining == row.remaining)
            .values(remaining=row.remaining - 1)
        )
        if result.rowcount == 1:
            return Forced(outcome=row.outcome, reason=row.reason)
    # Lost the race twenty times in a row: behave as if nothing was forced.
    return None
