"""The expected treasury date: official tables from the database first, the flag kept."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.contribution import ContributionActivities
from domain.calendar import YearTable
from domain.payments import PaymentState
from domain.vocabulary import Channel, ContributionStatus
from storage import calendars
from storage.models import Contribution, Payment
from tests.storage.conftest import db_url, engine, make_contribution, make_person, sessionmaker
from workflows.contract import PaymentCheck, RecordPaymentRequest

__all__ = ["db_url", "engine", "sessionmaker"]

# 31 December 2026, 10:00 in Shanghai: three business days later is in 2027.
PAID_AT = datetime(2026, 12, 31, 2, 0, tzinfo=UTC)


async def _record(sm: async_sessionmaker[AsyncSession]) -> tuple[Any, Contribution]:
    person = await make_person(sm)
    await make_contribution(
        sm, person, "c1", ["2026-12"], status=ContributionStatus.AWAITING_PAYMENT
    )
    async with sm.begin() as session:
        session.add(
            Payment(
                out_trade_no="SBc1",
                contribution_id="c1",
                channel=Channel.WECHAT_BALANCE,
                amount_fen=100,
                expires_at=PAID_AT + timedelta(minutes=15),
                state=PaymentState.PENDING,
                provider_state="NOTPAY",
                created_at=PAID_AT,
                updated_at=PAID_AT,
            )
        )
    activities = ContributionActivities(
        sm, cast(Any, None), cast(Any, None), cast(Any, None), base_url=""
    )
    request = RecordPaymentRequest(
        contribution_id="c1",
        payment=PaymentCheck(
            out_trade_no="SBc1",
            state=PaymentState.PAID,
            provider_state="SUCCESS",
            amount_fen=100,
            paid_at=PAID_AT,
        ),
        treasury_lag_business_days=3,
        at=PAID_AT,
    )
    recorded = await ActivityEnvironment().run(activities.record_payment, request)
    async with sm() as session:
        row = await session.get(Contribution, "c1")
    assert row is not None
    return recorded, row


async def test_a_date_in_a_provisional_year_is_flagged_and_stored(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    recorded, row = await _record(sessionmaker)
    # 元旦, the weekend, then Jan 4, 5, 6 — from the provisional 2027.
    assert (recorded.expected_treasury_date, recorded.calendar_fallback) == (date(2027, 1, 6), True)
    assert (row.expected_treasury_date, row.expected_treasury_provisional) == (
        date(2027, 1, 6),
        True,
    )


async def test_the_official_table_in_the_database_decides_and_ends_the_flag(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    # A made-up notice that also gives Monday 4 January 2027 off.
    table = YearTable.of(2027, {date(2027, 1, 1), date(2027, 1, 4)}, set(), "测试用通知")
    async with sessionmaker.begin() as session:
        await calendars.put_official_table(session, table, "test", at=PAID_AT)
    recorded, row = await _record(sessionmaker)
    assert (recorded.expected_treasury_date, recorded.calendar_fallback) == (
        date(2027, 1, 7),
        False,
    )
    assert (row.expected_treasury_date, row.expected_treasury_provisional) == (
        date(2027, 1, 7),
        False,
    )
