"""Refunds, postings, treasury receipts and certifiable months."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.payments import RefundState
from domain.vocabulary import Insurance, PostingState
from storage.errors import NotFound
from storage.models import Person
from storage.postings import get_posting, upsert_posting
from storage.refunds import add_refund, get_refund, refunds_for, update_refund
from storage.treasury import (
    add_certifiable_months,
    certifiable_months,
    get_receipt,
    record_receipt,
)
from tests.storage.conftest import later, make_contribution, make_person


async def _paid(sm: async_sessionmaker[AsyncSession], months: list[str]) -> Person:
    person = await make_person(sm)
    await make_contribution(sm, person, "c-x", months)
    return person


async def _refund(sm: async_sessionmaker[AsyncSession], amount_fen: int = 87267) -> None:
    async with sm.begin() as session:
        await add_refund(
            session,
            out_refund_no="rf-1",
            contribution_id="c-x",
            out_trade_no="otn-1",
            amount_fen=amount_fen,
            reason="社保记账失败退款",
            at=later(10),
        )


async def test_adding_a_refund_twice_keeps_the_first(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _paid(sessionmaker, ["2026-01"])
    await _refund(sessionmaker)
    await _refund(sessionmaker, amount_fen=1)
    async with sessionmaker() as session:
        refunds = await refunds_for(session, "c-x")
    assert [(r.out_refund_no, r.amount_fen, r.status) for r in refunds] == [
        ("rf-1", 87267, RefundState.PROCESSING)
    ]
    assert refunds[0].reason == "社保记账失败退款"


async def test_a_finished_refund_stays_finished(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _paid(sessionmaker, ["2026-01"])
    await _refund(sessionmaker)
    async with sessionmaker.begin() as session:
        await update_refund(
            session, "rf-1", RefundState.SUCCESS, refund_id="50000001", at=later(20)
        )
    async with sessionmaker.begin() as session:
        refund = await update_refund(session, "rf-1", RefundState.PROCESSING, at=later(21))
    assert (refund.status, refund.refund_id, refund.finished_at) == (
        RefundState.SUCCESS,
        "50000001",
        later(20),
    )


async def test_an_abnormal_refund_can_be_retried(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _paid(sessionmaker, ["2026-01"])
    await _refund(sessionmaker)
    async with sessionmaker.begin() as session:
        abnormal = await update_refund(session, "rf-1", RefundState.ABNORMAL, at=later(20))
        assert abnormal.finished_at == later(20)
    async with sessionmaker.begin() as session:
        retried = await update_refund(session, "rf-1", RefundState.PROCESSING, at=later(30))
        assert (retried.status, retried.finished_at) == (RefundState.PROCESSING, None)
    async with sessionmaker() as session:
        stored = await get_refund(session, "rf-1")
    assert stored is not None and stored.updated_at == later(30)


async def test_updating_an_unknown_refund_fails(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(NotFound):
        async with sessionmaker.begin() as session:
            await update_refund(session, "nope", RefundState.SUCCESS, at=later(1))


async def test_a_repeated_submission_does_not_undo_the_agencys_answer(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _paid(sessionmaker, ["2026-01"])
    steps = [
        ("post-1", PostingState.PENDING, 1),
        ("post-1", PostingState.PENDING, 2),  # retried submission
        ("post-1", PostingState.ACCEPTED, 3),
        ("post-1", PostingState.PENDING, 4),  # stale retry after the answer
    ]
    for posting_id, state, minutes in steps:
        async with sessionmaker.begin() as session:
            await upsert_posting(
                session,
                contribution_id="c-x",
                posting_id=posting_id,
                state=state,
                at=later(minutes),
            )
    async with sessionmaker() as session:
        posting = await get_posting(session, "c-x")
    assert posting is not None
    assert (posting.state, posting.submitted_at, posting.confirmed_at) == (
        PostingState.ACCEPTED,
        later(1),
        later(3),
    )


async def test_a_rejected_posting_keeps_its_reason_and_a_resubmission_starts_over(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _paid(sessionmaker, ["2026-01"])
    async with sessionmaker.begin() as session:
        await upsert_posting(
            session,
            contribution_id="c-x",
            posting_id="p-1",
            state=PostingState.PENDING,
            at=later(1),
        )
        rejected = await upsert_posting(
            session,
            contribution_id="c-x",
            posting_id="p-1",
            state=PostingState.REJECTED,
            reason="BASE_OUT_OF_RANGE",
            at=later(2),
        )
        assert (rejected.state, rejected.reason, rejected.confirmed_at) == (
            PostingState.REJECTED,
            "BASE_OUT_OF_RANGE",
            None,
        )
        again = await upsert_posting(
            session,
            contribution_id="c-x",
            posting_id="p-2",
            state=PostingState.PENDING,
            at=later(5),
        )
    assert (again.posting_id, again.state, again.reason, again.submitted_at) == (
        "p-2",
        PostingState.PENDING,
        None,
        later(5),
    )


async def test_treasury_receipt_is_kept_once_and_makes_months_certifiable_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await _paid(sessionmaker, ["2026-01", "2026-02", "2026-03"])
    for receipt_no in ("TR-1", "TR-2"):
        async with sessionmaker.begin() as session:
            await record_receipt(
                session,
                contribution_id="c-x",
                receipt_no=receipt_no,
                amount_fen=3 * 87267,
                treasury_date=date(2026, 3, 4),
                at=later(60),
            )
    async with sessionmaker.begin() as session:
        assert await add_certifiable_months(session, "c-x", later(61)) == 3
    async with sessionmaker.begin() as session:
        assert await add_certifiable_months(session, "c-x", later(62)) == 0
    async with sessionmaker() as session:
        receipt = await get_receipt(session, "c-x")
        months = await certifiable_months(
            session, person.id, Insurance.PENSION, "2026-02", "2026-12"
        )
    assert receipt is not None and receipt.receipt_no == "TR-1"
    assert [(m.month, m.amount_fen, m.treasury_date) for m in months] == [
        ("2026-02", 87267, date(2026, 3, 4)),
        ("2026-03", 87267, date(2026, 3, 4)),
    ]


async def test_months_are_not_certifiable_before_the_money_is_in_the_treasury(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _paid(sessionmaker, ["2026-01"])
    with pytest.raises(NotFound):
        async with sessionmaker.begin() as session:
            await add_certifiable_months(session, "c-x", later(1))
