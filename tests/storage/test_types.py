"""Column types: aware UTC timestamps and enum members survive the round trip on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.vocabulary import PAID_STATUSES, Channel, ContributionStatus
from storage.contributions import get_contribution, set_status
from storage.persons import get_person
from tests.storage.conftest import make_contribution, make_person

BEIJING = timezone(timedelta(hours=8))


async def test_timestamps_come_back_timezone_aware(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker)
    await make_contribution(sessionmaker, person, "c-tz", ["2026-01"])
    paid_beijing = datetime(2026, 3, 1, 10, 30, 15, 123456, tzinfo=BEIJING)
    async with sessionmaker.begin() as session:
        await set_status(
            session, "c-tz", ContributionStatus.PAID, paid_beijing, paid_at=paid_beijing
        )
    # A new session, so the values come from the database rather than the identity map.
    async with sessionmaker() as session:
        contribution = await get_contribution(session, "c-tz")
        stored_person = await get_person(session, person.id)
    assert contribution is not None and stored_person is not None
    assert contribution.paid_at == paid_beijing
    assert contribution.paid_at is not None and contribution.paid_at.tzinfo is UTC
    assert contribution.paid_at.hour == 2  # 10:30 in Beijing is 02:30 UTC
    assert contribution.updated_at.tzinfo is UTC
    assert stored_person.created_at.tzinfo is UTC


async def test_naive_datetimes_are_refused(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker)
    await make_contribution(sessionmaker, person, "c-naive", ["2026-01"])
    with pytest.raises(StatementError, match="naive datetime"):
        async with sessionmaker.begin() as session:
            await set_status(session, "c-naive", ContributionStatus.PAID, datetime(2026, 3, 1))


async def test_enum_columns_come_back_as_enum_members(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker)
    await make_contribution(
        sessionmaker, person, "c-enum", ["2026-01"], status=ContributionStatus.PAID
    )
    async with sessionmaker() as session:
        contribution = await get_contribution(session, "c-enum")
    assert contribution is not None
    # Enum members hash by name: a bare "wechat_balance" string would not be found in this set.
    assert contribution.channel in {Channel.WECHAT_BALANCE}
    assert contribution.status in PAID_STATUSES
    assert type(contribution.status) is ContributionStatus
