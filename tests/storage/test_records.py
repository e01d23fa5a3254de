"""Records (社保费申报查询): one row per month with its status and where the money is."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.payments.wechatpay.states import TradeState, payment_state
from domain.payments import PaymentState, RefundState
from domain.vocabulary import Channel, ContributionStatus, PostingState
from storage.contributions import RefundInfo, get_record, list_records, set_status
from storage.payments import add_payment, update_payment_state
from storage.postings import upsert_posting
from storage.refunds import add_refund
from storage.treasury import record_receipt
from tests.storage.conftest import later, make_contribution, make_person


def wechat(state: TradeState) -> tuple[PaymentState, str]:
    """Our state and WeChat's word for it, as the WeChat adapter reports an order."""
    return payment_state(state), state.value


S = ContributionStatus


async def test_records_list_shows_months_with_status(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker)
    other = await make_person(sessionmaker, 2)
    await make_contribution(sessionmaker, person, "c-done", ["2026-01", "2026-02"])
    await make_contribution(sessionmaker, person, "c-refund", ["2026-03"])
    await make_contribution(sessionmaker, person, "c-rejected", ["2026-03"], status=S.REJECTED)
    await make_contribution(sessionmaker, person, "c-late", ["2025-12"])
    await make_contribution(sessionmaker, other, "c-other", ["2026-01"])
    async with sessionmaker.begin() as session:
        await add_payment(
            session,
            out_trade_no="otn-done",
            contribution_id="c-done",
            channel=Channel.WECHAT_BALANCE,
            amount_fen=2 * 87267,
            expires_at=later(15),
            at=later(1),
            provider="wechatpay",
            product="h5",
            provider_state="NOTPAY",
        )
        await update_payment_state(
            session,
            "otn-done",
            *wechat(TradeState.SUCCESS),
            transaction_id="4200000042",
            paid_at=later(2),
            at=later(2),
        )
        await set_status(
            session,
            "c-done",
            S.IN_TREASURY,
            later(3),
            out_trade_no="otn-done",
            paid_at=later(2),
            expected_treasury_date=date(2026, 3, 4),
        )
        await upsert_posting(
            session,
            contribution_id="c-done",
            posting_id="post-9",
            state=PostingState.ACCEPTED,
            at=later(4),
        )
        await record_receipt(
            session,
            contribution_id="c-done",
            receipt_no="TR-9",
            amount_fen=2 * 87267,
            treasury_date=date(2026, 3, 4),
            at=later(5),
        )
        await set_status(session, "c-refund", S.REFUNDING, later(6))
        await add_refund(
            session,
            out_refund_no="rf-9",
            contribution_id="c-refund",
            out_trade_no="otn-refund",
            amount_fen=87267,
            reason="记账失败",
            at=later(6),
        )

    async with sessionmaker() as session:
        records = await list_records(session, person.id, "2026-01", "2026-12")

    assert [(r.month, r.contribution_id, r.status) for r in records] == [
        ("2026-01", "c-done", S.IN_TREASURY),
        ("2026-02", "c-done", S.IN_TREASURY),
        ("2026-03", "c-refund", S.REFUNDING),
    ]
    done = records[0]
    assert (done.transaction_id, done.out_trade_no, done.paid_at) == (
        "4200000042",
        "otn-done",
        later(2),
    )
    assert (done.posting_id, done.posting_state) == ("post-9", PostingState.ACCEPTED)
    assert (done.treasury_date, done.expected_treasury_date) == (
        date(2026, 3, 4),
        date(2026, 3, 4),
    )
    assert (done.base_fen, done.amount_fen, done.interest_fen) == (436335, 87267, 0)
    assert done.refund is None
    assert records[2].refund == RefundInfo("rf-9", RefundState.PROCESSING, 87267)
    assert records[2].transaction_id is None and records[2].posting_id is None


async def test_a_record_is_found_by_its_id(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker)
    await make_contribution(sessionmaker, person, "c-1", ["2026-01", "2026-02"])
    async with sessionmaker() as session:
        listed = await list_records(session, person.id, "2026-02", "2026-02")
        record = await get_record(session, listed[0].record_id)
        missing = await get_record(session, 10_000)
    assert record == listed[0]
    assert (record.month, record.person_id) == ("2026-02", person.id)
    assert missing is None
