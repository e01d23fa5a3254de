"""Contributions: creation, status history, listing."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.vocabulary import Channel, ContributionStatus, Insurance, RejectReason
from storage.contributions import (
    contribution_months,
    create_contribution,
    get_contribution,
    list_contributions,
    set_status,
    status_history,
)
from storage.errors import NotFound
from tests.storage.conftest import T0, later, lines_for, make_contribution, make_person

S = ContributionStatus


async def test_creating_a_contribution_twice_keeps_the_first(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker)
    first = await make_contribution(sessionmaker, person, "c-1", ["2026-02", "2026-01"])
    again = await make_contribution(
        sessionmaker, person, "c-1", ["2026-03"], status=S.PAID, at=later(5)
    )
    assert again.id == first.id
    async with sessionmaker() as session:
        stored = await get_contribution(session, "c-1")
        months = await contribution_months(session, "c-1")
        history = await status_history(session, "c-1")
    assert stored is not None
    assert stored.months == ["2026-01", "2026-02"]
    assert stored.status == S.VERIFYING
    assert stored.total_fen == 2 * 87267
    assert [(m.month, m.amount_fen) for m in months] == [("2026-01", 87267), ("2026-02", 87267)]
    assert [(h.status, h.at) for h in history] == [(S.VERIFYING, T0)]


async def test_lines_must_match_the_months(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker)
    with pytest.raises(ValueError, match="lines"):
        async with sessionmaker.begin() as session:
            await create_contribution(
                session,
                contribution_id="c-bad",
                person_id=person.id,
                payer_ref=person.payer_ref,
                insurance=Insurance.PENSION,
                months=["2026-01", "2026-02"],
                grade=60,
                back_payment=False,
                channel=Channel.BANK_CARD,
                quote_id=None,
                total_fen=1,
                lines=lines_for(["2026-01"]),
                requested_by_person_id=None,
                status=S.VERIFYING,
                at=T0,
            )


async def test_status_history_ignores_repeated_status(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker)
    await make_contribution(sessionmaker, person, "c-h", ["2026-01"])
    results = []
    for minutes, status in [
        (1, S.AWAITING_PAYMENT),
        (2, S.AWAITING_PAYMENT),  # a retried activity
        (3, S.PAID),
        (3, S.PAID),
        (4, S.POSTING),
    ]:
        async with sessionmaker.begin() as session:
            results.append(await set_status(session, "c-h", status, later(minutes)))
    assert results == [True, False, True, False, True]
    async with sessionmaker() as session:
        history = await status_history(session, "c-h")
        contribution = await get_contribution(session, "c-h")
    assert [h.status for h in history] == [S.VERIFYING, S.AWAITING_PAYMENT, S.PAID, S.POSTING]
    assert contribution is not None
    assert contribution.status == S.POSTING
    assert contribution.updated_at == later(4)


async def test_concurrent_callers_append_a_status_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The second caller waits for the first's row lock, then finds the status already set."""
    person = await make_person(sessionmaker)
    await make_contribution(sessionmaker, person, "c-race", ["2026-01"])
    async with sessionmaker.begin() as first:
        assert await set_status(first, "c-race", S.PAID, later(1), paid_at=later(1))

        async def second() -> bool:
            async with sessionmaker.begin() as session:
                return await set_status(session, "c-race", S.PAID, later(2), paid_at=later(1))

        waiting = asyncio.create_task(second())
        await asyncio.sleep(0.3)
        assert not waiting.done()  # blocked on the first's lock
    assert await waiting is False
    async with sessionmaker() as session:
        history = await status_history(session, "c-race")
        contribution = await get_contribution(session, "c-race")
    assert [h.status for h in history] == [S.VERIFYING, S.PAID]
    assert contribution is not None
    assert contribution.updated_at == later(1)


async def test_set_status_records_the_given_fields_and_keeps_the_others(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker)
    await make_contribution(sessionmaker, person, "c-f", ["2026-01"])
    async with sessionmaker.begin() as session:
        assert await set_status(
            session, "c-f", S.AWAITING_PAYMENT, later(1), "order created", out_trade_no="otn1"
        )
    async with sessionmaker.begin() as session:
        assert await set_status(
            session,
            "c-f",
            S.PAID,
            later(2),
            paid_at=later(2),
            expected_treasury_date=date(2026, 3, 4),
        )
    async with sessionmaker.begin() as session:
        # The same call again (an activity retry): nothing changes.
        assert not await set_status(session, "c-f", S.PAID, later(2), paid_at=later(2))
    async with sessionmaker() as session:
        contribution = await get_contribution(session, "c-f")
        history = await status_history(session, "c-f")
    assert contribution is not None
    assert contribution.out_trade_no == "otn1"
    assert contribution.paid_at == later(2)
    assert contribution.expected_treasury_date == date(2026, 3, 4)
    assert contribution.reject_reason is None
    assert history[1].detail == "order created"


async def test_a_rejection_keeps_its_reason_and_the_holder(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker)
    await make_contribution(sessionmaker, person, "c-r", ["2026-01"])
    async with sessionmaker.begin() as session:
        await set_status(
            session,
            "c-r",
            S.REJECTED,
            later(1),
            reject_reason=RejectReason.MONTH_IN_FLIGHT,
            holder_contribution_id="c-holder",
        )
    async with sessionmaker() as session:
        contribution = await get_contribution(session, "c-r")
    assert contribution is not None
    assert contribution.reject_reason == RejectReason.MONTH_IN_FLIGHT
    assert contribution.holder_contribution_id == "c-holder"


async def test_a_review_keeps_its_reason_after_the_operator_resolves_it(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker)
    await make_contribution(sessionmaker, person, "c-m", ["2026-01"])
    async with sessionmaker.begin() as session:
        await set_status(session, "c-m", S.MANUAL_REVIEW, later(1), review_reason="退款状态 CLOSED")
        # Like the workflow's query: the reason stays once the review is over.
        await set_status(session, "c-m", S.REFUNDED, later(2))
    async with sessionmaker() as session:
        contribution = await get_contribution(session, "c-m")
    assert contribution is not None
    assert contribution.status == S.REFUNDED
    assert contribution.review_reason == "退款状态 CLOSED"


async def test_setting_the_status_of_an_unknown_contribution_fails(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(NotFound):
        async with sessionmaker.begin() as session:
            await set_status(session, "nope", S.PAID, T0)


async def test_contributions_are_listed_by_status_and_by_month(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker)
    await make_contribution(sessionmaker, person, "c-a", ["2026-01"], at=later(1))
    await make_contribution(sessionmaker, person, "c-b", ["2026-02", "2026-03"], at=later(2))
    await make_contribution(sessionmaker, person, "c-c", ["2026-03"], status=S.PAID, at=later(3))
    async with sessionmaker() as session:
        everything = await list_contributions(session)
        verifying = await list_contributions(session, status=S.VERIFYING)
        march = await list_contributions(session, month="2026-03")
        march_paid = await list_contributions(session, month="2026-03", status=S.PAID)
        limited = await list_contributions(session, limit=1)
        mine = await list_contributions(session, person_id=person.id)
    assert [c.id for c in everything] == ["c-c", "c-b", "c-a"]
    assert [c.id for c in verifying] == ["c-b", "c-a"]
    assert [c.id for c in march] == ["c-c", "c-b"]
    assert [c.id for c in march_paid] == ["c-c"]
    assert [c.id for c in limited] == ["c-c"]
    assert len(mine) == 3
