"""`python -m scripts.audit_books` on real databases: clean books PASS, broken books FAIL."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import simulators.store as sim_store
from domain.payments import PaymentState
from domain.vocabulary import Channel, ContributionStatus, PostingState
from scripts import audit_books
from scripts.local_postgres import LocalPostgres
from settings import Settings
from simulators.store import create_sim_tables
from storage.db import make_engine, make_sessionmaker, upgrade_database
from storage.models import (
    Contribution,
    ContributionMonth,
    Payment,
    Posting,
    TreasuryReceipt,
)
from tests.storage.conftest import T0, make_contribution, make_person

S = ContributionStatus
FEN = 87267


async def pay(sm: async_sessionmaker[AsyncSession], cid: str, state: PaymentState) -> None:
    async with sm.begin() as session:
        session.add(
            Payment(
                out_trade_no=f"SB{cid}",
                contribution_id=cid,
                channel=Channel.WECHAT_BALANCE,
                amount_fen=FEN,
                expires_at=T0 + timedelta(minutes=15),
                state=state,
                provider_state="SUCCESS",
                paid_at=T0,
                created_at=T0,
                updated_at=T0,
            )
        )


async def post_and_receive(sm: async_sessionmaker[AsyncSession], cid: str) -> None:
    async with sm.begin() as session:
        session.add(
            Posting(
                contribution_id=cid,
                posting_id=f"P{cid}",
                state=PostingState.ACCEPTED,
                submitted_at=T0,
                confirmed_at=T0,
            )
        )
        session.add(
            TreasuryReceipt(
                contribution_id=cid,
                receipt_no=f"R{cid}",
                amount_fen=FEN,
                treasury_date=date(2026, 3, 2),
                received_at=T0,
            )
        )


async def audit_exit_code(db_url: str, *extra: str) -> int:
    settings = Settings()
    args = audit_books.parse_args(["--database-url", db_url, *extra], settings)
    return 0 if await audit_books.run(args, settings) else 1


async def test_completed_and_expired_books_pass(
    sessionmaker: async_sessionmaker[AsyncSession], db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    person = await make_person(sessionmaker)
    await make_contribution(sessionmaker, person, "c-done", ["2026-01"], status=S.COMPLETED)
    await pay(sessionmaker, "c-done", PaymentState.PAID)
    await post_and_receive(sessionmaker, "c-done")
    await make_contribution(sessionmaker, person, "c-expired", ["2026-02"], status=S.EXPIRED)
    assert await audit_exit_code(db_url) == 0
    out = capsys.readouterr().out
    assert f"charged_fen={FEN}, posted_fen={FEN}" in out and "AUDIT PASS (5/5)" in out


async def test_an_expired_contribution_that_kept_the_money_fails(
    sessionmaker: async_sessionmaker[AsyncSession], db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    person = await make_person(sessionmaker)
    await make_contribution(sessionmaker, person, "c-late", ["2026-01"], status=S.EXPIRED)
    await pay(sessionmaker, "c-late", PaymentState.PAID)
    assert await audit_exit_code(db_url) == 1
    out = capsys.readouterr().out
    assert "FAIL  charged = posted + refunded" in out
    assert "FAIL  no channel payment without a contribution" in out
    assert "c-late EXPIRED keeps 87267 fen without a refund" in out


async def test_a_month_posted_twice_and_a_stuck_contribution_fail(
    sessionmaker: async_sessionmaker[AsyncSession], db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    person = await make_person(sessionmaker)
    # Two accepted postings for one month: only a broken reservation guard could do this,
    # so the rows are written past it (the second contribution holds no reservation).
    await make_contribution(sessionmaker, person, "c-a", ["2026-01"], status=S.COMPLETED)
    await make_contribution(sessionmaker, person, "c-b", ["2026-02"], status=S.COMPLETED)
    async with sessionmaker.begin() as session:
        await session.execute(
            update(Contribution).where(Contribution.id == "c-b").values(months=["2026-01"])
        )
        await session.execute(
            update(ContributionMonth)
            .where(ContributionMonth.contribution_id == "c-b")
            .values(month="2026-01")
        )
    for cid in ("c-a", "c-b"):
        await pay(sessionmaker, cid, PaymentState.PAID)
        await post_and_receive(sessionmaker, cid)
    await make_contribution(sessionmaker, person, "c-stuck", ["2026-03"], status=S.POSTING)
    assert await audit_exit_code(db_url, "--settle-s", "0") == 1
    out = capsys.readouterr().out
    assert "FAIL  no month posted twice" in out and "posted_twice=1" in out
    assert "FAIL  every contribution past its deadline is terminal" in out


def test_the_command_exits_1_on_a_broken_book(postgres_url: str) -> None:
    # The exit code is what CI and the crash script read: check it through main() itself.
    url = postgres_url

    async def seed() -> None:
        await upgrade_database(url)
        engine = make_engine(url)
        sm = make_sessionmaker(engine)
        person = await make_person(sm)
        await make_contribution(sm, person, "c-lost", ["2026-01"], status=S.COMPLETED)
        await pay(sm, "c-lost", PaymentState.PAID)  # paid, "completed", never posted
        await engine.dispose()

    asyncio.run(seed())
    assert audit_books.main(["--database-url", url]) == 1


async def test_a_charge_at_the_channel_missing_from_the_books_fails(
    sessionmaker: async_sessionmaker[AsyncSession],
    db_url: str,
    postgres_server: LocalPostgres,
    capsys: pytest.CaptureFixture[str],
) -> None:
    person = await make_person(sessionmaker)
    await make_contribution(sessionmaker, person, "c-open", ["2026-01"], status=S.AWAITING_PAYMENT)
    sim_url = postgres_server.create_database("sim")
    sim = make_engine(sim_url, durable_commits=False)
    await create_sim_tables(sim)
    async with sim.begin() as conn:
        # The payer paid; the callback and every query were lost: our books never heard of it.
        await conn.execute(
            insert(sim_store.orders).values(
                out_trade_no="SBc-open",
                description="社保费",
                amount_fen=FEN,
                time_expire=T0,
                channel="wechat_balance",
                notify_url="http://127.0.0.1/notify",
                prepay_id="wx1",
                created_at=T0,
                trade_state="SUCCESS",
            )
        )
    await sim.dispose()
    assert await audit_exit_code(db_url, "--sim-database-url", sim_url) == 1
    out = capsys.readouterr().out
    assert "channel order SBc-open charged 87267 fen, unknown" in out
