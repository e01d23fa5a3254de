"""Fixtures for storage tests: every test runs on a freshly migrated PostgreSQL database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.vocabulary import Channel, ContributionStatus, IdType, Insurance, Sex
from storage.contributions import create_contribution
from storage.db import make_engine, make_sessionmaker, upgrade_database
from storage.models import Contribution, Person
from storage.persons import add_person, upsert_registration

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def db_url(postgres_url: str) -> str:
    """An empty database of its own for each test."""
    return postgres_url


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """The database migrated to head (every test thereby also exercises the migration)."""
    await upgrade_database(db_url)
    engine = make_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


async def make_person(
    sm: async_sessionmaker[AsyncSession], n: int = 1, *, start_month: str = "2026-01"
) -> Person:
    """A registered person with synthetic (not real) identity data."""
    async with sm.begin() as session:
        person = await add_person(
            session,
            id_type=IdType.RESIDENT_ID,
            id_number=f"52010119900101{n:04d}",
            name=f"测试{n}",
            birth_date=date(1990, 1, 1),
            sex=Sex.MALE,
            payer_ref=f"pr_{n:037d}",
            city="贵阳",
            at=T0,
        )
        await upsert_registration(
            session,
            person_id=person.id,
            insurance=Insurance.PENSION,
            start_month=start_month,
            at=T0,
        )
    return person


def lines_for(months: Sequence[str], amount_fen: int = 87267) -> list[dict[str, object]]:
    return [
        {"month": m, "base_fen": 436335, "amount_fen": amount_fen, "interest_fen": 0}
        for m in months
    ]


async def make_contribution(
    sm: async_sessionmaker[AsyncSession],
    person: Person,
    contribution_id: str,
    months: Sequence[str],
    *,
    status: ContributionStatus = ContributionStatus.VERIFYING,
    at: datetime = T0,
) -> Contribution:
    async with sm.begin() as session:
        return await create_contribution(
            session,
            contribution_id=contribution_id,
            person_id=person.id,
            payer_ref=person.payer_ref,
            insurance=Insurance.PENSION,
            months=months,
            grade=60,
            back_payment=False,
            channel=Channel.WECHAT_BALANCE,
            quote_id=None,
            total_fen=87267 * len(months),
            lines=lines_for(months),
            requested_by_person_id=None,
            status=status,
            at=at,
        )


def later(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)
