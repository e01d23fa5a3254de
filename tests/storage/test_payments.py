"""Payment orders and channel callbacks."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.payments.wechatpay.states import TradeState, payment_state
from domain.payments import PaymentState
from domain.vocabulary import Channel
from storage.errors import NotFound
from storage.payments import (
    add_payment,
    get_event,
    get_payment,
    mark_event_processed,
    payments_for,
    record_event,
    set_cashier_url,
    unprocessed_events,
    update_payment_state,
)
from tests.storage.conftest import later, make_contribution, make_person


def wechat(state: TradeState) -> tuple[PaymentState, str]:
    """Our state and WeChat's word for it, as the WeChat adapter reports an order."""
    return payment_state(state), state.value


async def _contribution_with_payment(sm: async_sessionmaker[AsyncSession]) -> None:
    person = await make_person(sm)
    await make_contribution(sm, person, "c-p", ["2026-01"])
    async with sm.begin() as session:
        await add_payment(
            session,
            out_trade_no="otn-1",
            contribution_id="c-p",
            channel=Channel.WECHAT_BALANCE,
            amount_fen=87267,
            expires_at=later(15),
            at=later(0),
            provider="wechatpay",
            product="h5",
            provider_state="NOTPAY",
        )


async def test_adding_a_payment_twice_keeps_the_first(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _contribution_with_payment(sessionmaker)
    async with sessionmaker.begin() as session:
        again = await add_payment(
            session,
            out_trade_no="otn-1",
            contribution_id="c-p",
            channel=Channel.BANK_CARD,
            amount_fen=1,
            expires_at=later(99),
            at=later(5),
            provider="wechatpay",
            product="h5",
            provider_state="NOTPAY",
        )
    assert (again.channel, again.amount_fen, again.state, again.provider_state) == (
        Channel.WECHAT_BALANCE,
        87267,
        PaymentState.PENDING,
        "NOTPAY",
    )
    async with sessionmaker() as session:
        assert [p.out_trade_no for p in await payments_for(session, "c-p")] == ["otn-1"]


async def test_the_cashier_url_is_kept_unless_longer_than_the_column(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _contribution_with_payment(sessionmaker)
    url = "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1&package=1"
    async with sessionmaker.begin() as session:
        await set_cashier_url(session, "otn-1", url)
        # Too long for the column: PostgreSQL would refuse the whole transaction.
        await set_cashier_url(session, "otn-1", url + "&x=" + "9" * 512)
    async with sessionmaker() as session:
        payment = await get_payment(session, "otn-1")
    assert payment is not None and payment.cashier_url == url


async def test_a_successful_payment_is_never_moved_back_to_unpaid(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _contribution_with_payment(sessionmaker)
    async with sessionmaker.begin() as session:
        await update_payment_state(
            session,
            "otn-1",
            *wechat(TradeState.SUCCESS),
            transaction_id="4200000001",
            bank_type="OTHERS",
            paid_at=later(3),
            at=later(3),
        )
    for stale in (TradeState.NOTPAY, TradeState.CLOSED, TradeState.USERPAYING):
        async with sessionmaker.begin() as session:
            await update_payment_state(session, "otn-1", *wechat(stale), at=later(4))
    async with sessionmaker() as session:
        payment = await get_payment(session, "otn-1")
    assert payment is not None
    assert (payment.state, payment.provider_state) == (PaymentState.PAID, "SUCCESS")
    assert (payment.transaction_id, payment.bank_type, payment.paid_at) == (
        "4200000001",
        "OTHERS",
        later(3),
    )
    assert payment.updated_at == later(3)


async def test_a_paid_order_can_be_refunded_and_a_closed_one_can_still_succeed(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _contribution_with_payment(sessionmaker)
    states = []
    for state in (TradeState.CLOSED, TradeState.SUCCESS, TradeState.REFUND, TradeState.SUCCESS):
        async with sessionmaker.begin() as session:
            payment = await update_payment_state(session, "otn-1", *wechat(state), at=later(5))
            states.append(payment.provider_state)
    assert states == [TradeState.CLOSED, TradeState.SUCCESS, TradeState.REFUND, TradeState.REFUND]


async def test_updating_an_unknown_payment_fails(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(NotFound):
        async with sessionmaker.begin() as session:
            await update_payment_state(session, "nope", *wechat(TradeState.SUCCESS), at=later(1))


async def test_duplicate_payment_event_is_recorded_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _contribution_with_payment(sessionmaker)
    summary = {"trade_state": "SUCCESS", "amount_fen": 87267}
    outcomes = []
    for minutes in (3, 4):
        async with sessionmaker.begin() as session:
            outcomes.append(
                await record_event(
                    session,
                    event_id="evt-1",
                    out_trade_no="otn-1",
                    event_type="TRANSACTION.SUCCESS",
                    summary=summary,
                    at=later(minutes),
                )
            )
    assert outcomes == [True, False]
    async with sessionmaker() as session:
        event = await get_event(session, "evt-1")
    assert event is not None
    assert (event.received_at, event.summary, event.processed_at) == (later(3), summary, None)


async def test_concurrent_deliveries_of_one_event_are_new_exactly_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _contribution_with_payment(sessionmaker)

    async def deliver() -> bool:
        async with sessionmaker.begin() as session:
            return await record_event(
                session,
                event_id="evt-race",
                out_trade_no="otn-1",
                event_type="TRANSACTION.SUCCESS",
                summary={},
                at=later(3),
            )

    assert sorted(await asyncio.gather(*(deliver() for _ in range(5)))) == [False] * 4 + [True]


async def test_an_event_is_marked_processed_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _contribution_with_payment(sessionmaker)
    async with sessionmaker.begin() as session:
        await record_event(
            session,
            event_id="evt-2",
            out_trade_no="otn-1",
            event_type="TRANSACTION.SUCCESS",
            summary={},
            at=later(3),
        )
    async with sessionmaker() as session:
        assert [e.event_id for e in await unprocessed_events(session)] == ["evt-2"]
    for minutes in (4, 5):
        async with sessionmaker.begin() as session:
            await mark_event_processed(session, "evt-2", later(minutes))
    async with sessionmaker() as session:
        event = await get_event(session, "evt-2")
        assert await unprocessed_events(session) == []
    assert event is not None and event.processed_at == later(4)
