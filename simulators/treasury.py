"""A treasury (国库/TIPS) receipt simulator: money arrives after a delay or N business days."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.clock import Clock
from adapters.errors import ConflictError
from adapters.treasury.interface import Treasury, TreasuryQuery, TreasuryReceipt
from simulators.config import SimConfig
from simulators.store import new_digits, treasury_receipts

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The treasury books the day's receipts when it opens, not at midnight.
TREASURY_OPENS = time(9, 0)

ReadyDate = Callable[[date, int], date]


def business_ready_date(start: date, n: int) -> date:
    """The n-th business day after start, from the domain's business calendar."""
    # Imported lazily: domain.calendar is developed alongside, and tests inject their own.
    from domain.calendar import BusinessCalendar

    result: date = BusinessCalendar().add_business_days(start, n).date
    return result


class TreasurySimulator(Treasury):
    """The first query fixes the voucher's ready_at; afterwards the receipt never changes."""

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        config: SimConfig,
        ready_date: ReadyDate | None = None,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._config = config
        self._ready_date = ready_date or business_ready_date

    def ready_at(self, q: TreasuryQuery) -> datetime:
        """When the money of this payment reaches the treasury (aware UTC)."""
        if self._config.treasury_delay_s is not None:
            return q.paid_at.astimezone(UTC) + timedelta(seconds=self._config.treasury_delay_s)
        paid_day = q.paid_at.astimezone(SHANGHAI).date()
        ready_day = self._ready_date(paid_day, q.lag_business_days)
        return datetime.combine(ready_day, TREASURY_OPENS, SHANGHAI).astimezone(UTC)

    async def query_receipt(self, q: TreasuryQuery) -> TreasuryReceipt | None:
        now = self._clock()
        # One transaction, as one call to the treasury would be: concurrent first queries from
        # other processes are settled by the primary key (the first insert's ready_at stands)
        # and by the compare-and-set on receipt_no.
        async with self._engine.begin() as conn:
            row = await self._row(conn, q.voucher_no)
            if row is None:
                row = (
                    await conn.execute(
                        pg_insert(treasury_receipts)
                        .values(
                            voucher_no=q.voucher_no,
                            amount_fen=q.amount_fen,
                            paid_at=q.paid_at,
                            lag_business_days=q.lag_business_days,
                            first_query_at=now,
                            ready_at=self.ready_at(q),
                        )
                        .on_conflict_do_nothing(index_elements=[treasury_receipts.c.voucher_no])
                        .returning(*treasury_receipts.c)
                    )
                ).first() or await self._row(conn, q.voucher_no)
            assert row is not None  # receipts are never deleted
            if row.amount_fen != q.amount_fen:
                raise ConflictError("AMOUNT_MISMATCH", "缴款书金额与入库记录不符")
            if now < row.ready_at:
                return None
            if row.receipt_no is None:
                # Compare-and-set so concurrent first readers agree on one receipt number.
                row = (
                    await conn.execute(
                        update(treasury_receipts)
                        .where(
                            treasury_receipts.c.voucher_no == q.voucher_no,
                            treasury_receipts.c.receipt_no.is_(None),
                        )
                        .values(receipt_no="TIPS" + new_digits(16), received_at=row.ready_at)
                        .returning(*treasury_receipts.c)
                    )
                ).first() or await self._row(conn, q.voucher_no)
                assert row is not None
        return TreasuryReceipt(
            receipt_no=row.receipt_no,
            voucher_no=row.voucher_no,
            amount_fen=row.amount_fen,
            treasury_date=row.ready_at.astimezone(SHANGHAI).date(),
            received_at=row.received_at,
        )

    async def _row(self, conn: AsyncConnection, voucher_no: str) -> Row[Any] | None:
        return (
            await conn.execute(
                select(treasury_receipts).where(treasury_receipts.c.voucher_no == voucher_no)
            )
        ).first()
