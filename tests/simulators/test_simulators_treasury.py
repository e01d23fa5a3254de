"""Behaviour of the treasury (国库/TIPS) receipt simulator."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.errors import ConflictError
from adapters.treasury.interface import Treasury, TreasuryQuery
from simulators.config import SimConfig
from simulators.treasury import TreasurySimulator
from tests.simulators.fakes import FakeClock

SHANGHAI = ZoneInfo("Asia/Shanghai")


def voucher(paid_at: datetime, no: str = "SB2026TEST000001") -> TreasuryQuery:
    return TreasuryQuery(voucher_no=no, amount_fen=87267, paid_at=paid_at, lag_business_days=3)


async def test_treasury_receipt_waits_three_business_days_across_a_holiday(
    engine: AsyncEngine, clock: FakeClock, config: SimConfig
) -> None:
    # Paid on the eve of National Day; 1–7 October 2026 are holidays and Saturday 10 October
    # is an adjusted working day (调休): the third business day is 10 October.
    paid_at = datetime(2026, 9, 30, 15, 30, tzinfo=SHANGHAI)
    clock.now = paid_at.astimezone(UTC)
    treasury: Treasury = TreasurySimulator(engine, clock, config)  # the domain calendar
    q = voucher(paid_at)

    assert await treasury.query_receipt(q) is None
    clock.now = datetime(2026, 10, 8, 12, 0, tzinfo=SHANGHAI).astimezone(UTC)
    assert await treasury.query_receipt(q) is None
    clock.now = datetime(2026, 10, 10, 8, 59, tzinfo=SHANGHAI).astimezone(UTC)
    assert await treasury.query_receipt(q) is None
    clock.now = datetime(2026, 10, 10, 9, 0, tzinfo=SHANGHAI).astimezone(UTC)
    receipt = await treasury.query_receipt(q)

    assert receipt is not None
    assert receipt.treasury_date == date(2026, 10, 10)
    assert receipt.received_at == clock.now
    assert receipt.received_at.tzinfo is not None
    assert receipt.receipt_no.startswith("TIPS")
    assert receipt.voucher_no == q.voucher_no and receipt.amount_fen == q.amount_fen


async def test_treasury_receipt_is_the_same_every_time(
    engine: AsyncEngine, clock: FakeClock, config: SimConfig
) -> None:
    paid_at = clock()

    def next_day(start: date, n: int) -> date:
        return start + timedelta(days=1)

    other_process = TreasurySimulator(engine, clock, config, ready_date=next_day)
    treasury = TreasurySimulator(engine, clock, config, ready_date=next_day)
    assert await treasury.query_receipt(voucher(paid_at)) is None
    clock.advance(days=1)

    first = await treasury.query_receipt(voucher(paid_at))
    clock.advance(days=5)
    assert first is not None
    assert await other_process.query_receipt(voucher(paid_at)) == first
    with pytest.raises(ConflictError):
        await treasury.query_receipt(voucher(paid_at).model_copy(update={"amount_fen": 1}))


async def test_fixed_treasury_delay_replaces_business_days(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    def never_called(start: date, n: int) -> date:
        raise AssertionError("the business-day rule must not be used with a fixed delay")

    treasury = TreasurySimulator(
        engine, clock, SimConfig(treasury_delay_s=120), ready_date=never_called
    )
    q = voucher(clock())
    assert await treasury.query_receipt(q) is None
    clock.advance(seconds=120)
    receipt = await treasury.query_receipt(q)
    assert receipt is not None and receipt.received_at == clock()
