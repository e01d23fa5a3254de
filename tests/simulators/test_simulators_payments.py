"""Behaviour of the WeChat Pay v3 simulator: orders, cashier, refunds, forced faults, callbacks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    TransientError,
)
from adapters.payments.interface import CreateOrder, PaymentChannel, RefundRequest
from adapters.payments.wechatpay.states import TradeState
from domain.payments import PaymentState, RefundState
from domain.vocabulary import Channel
from simulators.config import SimConfig
from simulators.payments import (
    NOTIFY_RETRY_SCHEDULE_S,
    PaymentSimulator,
    notify_retry_delay_s,
)
from storage.db import make_engine
from tests.simulators.fakes import FakeClock

MakeOrder = Callable[..., CreateOrder]


def refund_of(req: CreateOrder, no: str = "RF-1", amount: int | None = None) -> RefundRequest:
    return RefundRequest(
        out_refund_no=no,
        out_trade_no=req.out_trade_no,
        amount_fen=amount if amount is not None else req.amount_fen,
        total_fen=req.amount_fen,
        reason="记账失败退款",
    )


def test_simulator_satisfies_the_protocol(payments: PaymentSimulator) -> None:
    channel: PaymentChannel = payments
    assert channel is payments


async def test_paying_an_expired_order_is_refused_but_order_stays_notpay(
    payments: PaymentSimulator, make_order: MakeOrder, clock: FakeClock
) -> None:
    req = make_order()
    await payments.create_order(req)
    clock.advance(minutes=16)

    with pytest.raises(ConflictError) as refused:
        await payments.pay(req.out_trade_no)

    assert refused.value.code == "ORDER_EXPIRED"
    status = await payments.query_order(req.out_trade_no)
    assert status.provider_state == TradeState.NOTPAY
    assert (await payments.order(req.out_trade_no)).expired
    await payments.close_order(req.out_trade_no)
    assert (await payments.query_order(req.out_trade_no)).provider_state == TradeState.CLOSED


async def test_close_after_payment_is_a_conflict(
    payments: PaymentSimulator, make_order: MakeOrder
) -> None:
    req = make_order()
    await payments.create_order(req)
    await payments.pay(req.out_trade_no)

    with pytest.raises(ConflictError) as conflict:
        await payments.close_order(req.out_trade_no)

    assert conflict.value.code == "ORDERPAID"
    assert not conflict.value.retryable
    assert (await payments.query_order(req.out_trade_no)).provider_state == TradeState.SUCCESS


async def test_closing_twice_is_a_no_op_and_a_closed_order_cannot_be_paid(
    payments: PaymentSimulator, make_order: MakeOrder
) -> None:
    req = make_order()
    await payments.create_order(req)
    await payments.close_order(req.out_trade_no)
    await payments.close_order(req.out_trade_no)

    with pytest.raises(ConflictError) as closed:
        await payments.pay(req.out_trade_no)
    assert closed.value.code == "ORDER_CLOSED"


async def test_paid_order_reports_transaction_and_success_time(
    payments: PaymentSimulator, make_order: MakeOrder, clock: FakeClock
) -> None:
    req = make_order(channel=Channel.BANK_CARD)
    await payments.create_order(req)

    paid = await payments.pay(req.out_trade_no)

    assert (paid.state, paid.provider_state) == (PaymentState.PAID, TradeState.SUCCESS)
    assert paid.bank_type == "ICBC_DEBIT"  # a card order pays by card unless told otherwise
    assert paid.transaction_id is not None and paid.transaction_id.startswith("42000")
    assert len(paid.transaction_id) == 28
    assert paid.payer_total_fen == req.amount_fen
    assert paid.success_time == clock()
    assert await payments.query_order(req.out_trade_no) == paid


async def test_failed_payment_is_payerror(
    payments: PaymentSimulator, make_order: MakeOrder
) -> None:
    req = make_order()
    await payments.create_order(req)
    status = await payments.pay(req.out_trade_no, outcome="fail")
    assert (status.state, status.provider_state) == (PaymentState.FAILED, TradeState.PAYERROR)
    assert status.transaction_id is None


async def test_create_order_is_idempotent_for_identical_parameters(
    payments: PaymentSimulator, make_order: MakeOrder, clock: FakeClock
) -> None:
    req = make_order()
    first = await payments.create_order(req)
    clock.advance(minutes=5)

    again = await payments.create_order(req)

    assert again == first
    assert first.cashier_url == f"http://test/sim/cashier/{req.out_trade_no}"
    assert first.h5_url == first.cashier_url  # no openid: an H5 payment
    assert first.expires_at == req.time_expire
    assert first.prepay_id.startswith("wx")


async def test_changed_parameters_for_same_out_trade_no_conflict(
    payments: PaymentSimulator, make_order: MakeOrder
) -> None:
    req = make_order()
    await payments.create_order(req)
    changed = req.model_copy(update={"amount_fen": req.amount_fen + 1})

    with pytest.raises(ConflictError) as conflict:
        await payments.create_order(changed)

    assert conflict.value.code == "OUT_TRADE_NO_USED"
    assert (await payments.order(req.out_trade_no)).amount_fen == req.amount_fen


async def test_create_order_after_payment_is_orderpaid(
    payments: PaymentSimulator, make_order: MakeOrder
) -> None:
    req = make_order()
    await payments.create_order(req)
    await payments.pay(req.out_trade_no)
    with pytest.raises(ConflictError) as conflict:
        await payments.create_order(req)
    assert conflict.value.code == "ORDERPAID"


async def test_invalid_order_parameters_are_refused(
    payments: PaymentSimulator, make_order: MakeOrder, clock: FakeClock
) -> None:
    with pytest.raises(InvalidRequestError):
        await payments.create_order(make_order(out_trade_no="bad no!"))
    with pytest.raises(InvalidRequestError):
        await payments.create_order(make_order(time_expire=clock() + timedelta(seconds=30)))


async def test_unknown_order_is_not_found(payments: PaymentSimulator) -> None:
    with pytest.raises(NotFoundError) as missing:
        await payments.query_order("SB-UNKNOWN-1")
    assert missing.value.code == "ORDER_NOT_EXIST"
    with pytest.raises(NotFoundError):
        await payments.close_order("SB-UNKNOWN-1")


async def test_zero_balance_refund_succeeds_faster_than_bank_card(
    payments: PaymentSimulator, make_order: MakeOrder, clock: FakeClock
) -> None:
    balance = make_order()
    card = make_order(channel=Channel.BANK_CARD)
    for req in (balance, card):
        await payments.create_order(req)
    await payments.pay(balance.out_trade_no, bank_type="OTHERS")
    await payments.pay(card.out_trade_no, bank_type="CCB_DEBIT")

    first = await payments.refund(refund_of(balance, "RF-BAL"))
    await payments.refund(refund_of(card, "RF-CARD"))
    assert first.status == RefundState.PROCESSING
    assert first.user_received_account == "支付用户零钱"
    assert (await payments.query_order(balance.out_trade_no)).provider_state == TradeState.REFUND

    clock.advance(minutes=5)
    balance_done = await payments.query_refund("RF-BAL")
    card_pending = await payments.query_refund("RF-CARD")
    assert balance_done.status == RefundState.SUCCESS
    assert balance_done.success_time == clock()
    assert card_pending.status == RefundState.PROCESSING
    assert card_pending.user_received_account == "建设银行借记卡"

    clock.advance(days=2)
    assert (await payments.query_refund("RF-CARD")).status == RefundState.SUCCESS
    events = [
        n.notification.event_type for n in await payments.notifications_for(card.out_trade_no)
    ]
    assert events == ["TRANSACTION.SUCCESS", "REFUND.SUCCESS"]


async def test_forced_closed_refund_ends_closed(
    payments: PaymentSimulator, make_order: MakeOrder, clock: FakeClock
) -> None:
    req = make_order(amount_fen=87267)
    await payments.create_order(req)
    await payments.pay(req.out_trade_no)
    await payments.force("refund", 87267, "CLOSED")

    assert (await payments.refund(refund_of(req))).status == RefundState.PROCESSING
    clock.advance(minutes=10)
    final = await payments.refund(refund_of(req))  # the retry with the original number

    assert final.status == RefundState.CLOSED
    assert final.success_time is None
    pending = await payments.pending_notifications()
    closed = [n for n in pending if n.event_type == "REFUND.CLOSED"]
    assert len(closed) == 1 and closed[0].refund_status == RefundState.CLOSED
    # A closed refund leaves the money with the merchant: the order reads as paid again.
    assert (await payments.query_order(req.out_trade_no)).provider_state == TradeState.SUCCESS


async def test_forced_abnormal_refund_ends_abnormal(
    payments: PaymentSimulator, make_order: MakeOrder, clock: FakeClock
) -> None:
    req = make_order(amount_fen=12345)
    await payments.create_order(req)
    await payments.pay(req.out_trade_no)
    await payments.force("refund", 12345, "ABNORMAL")
    await payments.refund(refund_of(req))
    clock.advance(minutes=5)
    assert (await payments.query_refund("RF-1")).status == RefundState.ABNORMAL


async def test_refund_is_idempotent_per_out_refund_no(
    payments: PaymentSimulator, make_order: MakeOrder
) -> None:
    req = make_order()
    await payments.create_order(req)
    await payments.pay(req.out_trade_no)

    first = await payments.refund(refund_of(req))
    again = await payments.refund(refund_of(req))

    assert again == first
    assert first.refund_id is not None and first.refund_id.startswith("50")
    with pytest.raises(ConflictError):
        await payments.refund(refund_of(req, amount=req.amount_fen - 1))


async def test_refunding_an_unpaid_order_or_more_than_paid_is_invalid(
    payments: PaymentSimulator, make_order: MakeOrder
) -> None:
    req = make_order()
    await payments.create_order(req)
    with pytest.raises(InvalidRequestError):
        await payments.refund(refund_of(req))

    await payments.pay(req.out_trade_no)
    await payments.refund(refund_of(req, "RF-HALF", amount=req.amount_fen // 2))
    with pytest.raises(InvalidRequestError):
        await payments.refund(refund_of(req, "RF-REST", amount=req.amount_fen))
    with pytest.raises(NotFoundError):
        await payments.query_refund("RF-NEVER")


async def test_forced_transient_create_raises_then_succeeds(
    payments: PaymentSimulator, make_order: MakeOrder
) -> None:
    req = make_order(amount_fen=50000)
    await payments.force("create_order", 50000, "SYSTEM_ERROR", times=2)

    for _ in range(2):
        with pytest.raises(TransientError) as transient:
            await payments.create_order(req)
        assert transient.value.code == "SYSTEM_ERROR"
        assert transient.value.retryable

    created = await payments.create_order(req)
    assert created.out_trade_no == req.out_trade_no
    with pytest.raises(NotFoundError):
        # The failed calls created nothing under other numbers.
        await payments.query_order("SB-NOT-CREATED")


async def test_timeout_after_commit_is_outcome_unknown_and_query_finds_order(
    payments: PaymentSimulator, make_order: MakeOrder
) -> None:
    req = make_order(amount_fen=60000)
    await payments.force("create_order", 60000, "TIMEOUT_AFTER_COMMIT", times=1)

    with pytest.raises(OutcomeUnknownError):
        await payments.create_order(req)

    found = await payments.query_order(req.out_trade_no)
    assert found.provider_state == TradeState.NOTPAY
    retried = await payments.create_order(req)  # same parameters: the same order comes back
    assert retried.prepay_id == (await payments.order(req.out_trade_no)).prepay_id


async def test_forced_query_fault_is_transient(
    payments: PaymentSimulator, make_order: MakeOrder
) -> None:
    req = make_order(amount_fen=70000)
    await payments.create_order(req)
    await payments.force("query_order", 70000, "TIMEOUT", times=1)
    with pytest.raises(TransientError):
        await payments.query_order(req.out_trade_no)
    assert (await payments.query_order(req.out_trade_no)).provider_state == TradeState.NOTPAY
    with pytest.raises(ValueError):
        await payments.force("query_order", 70000, "NOT_A_CODE")


async def test_notifications_duplicated_and_lost_by_rate(
    engine: AsyncEngine, clock: FakeClock, make_order: MakeOrder
) -> None:
    always_duplicated = PaymentSimulator(
        engine, clock, SimConfig(duplicate_callback_rate=1.0, seed=1)
    )
    always_lost = PaymentSimulator(engine, clock, SimConfig(lost_callback_rate=1.0, seed=1))
    doubled, vanished = make_order(), make_order()
    await always_duplicated.create_order(doubled)
    await always_lost.create_order(vanished)
    await always_duplicated.pay(doubled.out_trade_no)
    await always_lost.pay(vanished.out_trade_no)

    pending = await always_duplicated.pending_notifications()

    for_doubled = [n for n in pending if n.out_trade_no == doubled.out_trade_no]
    assert len(for_doubled) == 2
    assert len({n.event_id for n in for_doubled}) == 2  # distinct ids: dedupe by state too
    assert {n.transaction_id for n in for_doubled} == {
        (await always_duplicated.query_order(doubled.out_trade_no)).transaction_id
    }
    assert not [n for n in pending if n.out_trade_no == vanished.out_trade_no]
    stored = await always_lost.notifications_for(vanished.out_trade_no)
    assert len(stored) == 1 and stored[0].lost


async def test_partial_rates_are_deterministic_per_order(
    engine: AsyncEngine, clock: FakeClock, make_order: MakeOrder
) -> None:
    config = SimConfig(lost_callback_rate=0.5, seed=3)
    sim = PaymentSimulator(engine, clock, config)
    lost_count = 0
    for _ in range(40):
        req = make_order()
        await sim.create_order(req)
        await sim.pay(req.out_trade_no)
        stored = await sim.notifications_for(req.out_trade_no)
        expected = config.draw("lost", "TRANSACTION.SUCCESS", req.out_trade_no, "0") < 0.5
        assert stored[0].lost is expected
        lost_count += expected
    assert 5 < lost_count < 35


async def test_failed_delivery_is_retried_on_the_compressed_schedule(
    payments: PaymentSimulator, make_order: MakeOrder, clock: FakeClock
) -> None:
    req = make_order()
    await payments.create_order(req)
    await payments.pay(req.out_trade_no)
    [event] = await payments.pending_notifications()
    assert event.event_type == "TRANSACTION.SUCCESS"
    assert event.provider_state == TradeState.SUCCESS and event.amount_fen == req.amount_fen

    delay = notify_retry_delay_s(1)
    assert delay == 15
    attempts = await payments.mark_failed_attempt(
        event.event_id, clock() + timedelta(seconds=delay)
    )
    assert attempts == 1
    assert await payments.pending_notifications() == []
    clock.advance(seconds=15)
    assert [n.event_id for n in await payments.pending_notifications()] == [event.event_id]

    await payments.mark_delivered(event.event_id)
    assert await payments.pending_notifications() == []
    assert notify_retry_delay_s(4, factor=60) == 3.0
    assert notify_retry_delay_s(len(NOTIFY_RETRY_SCHEDULE_S) + 1) is None
    assert 24 * 3600 <= sum(NOTIFY_RETRY_SCHEDULE_S) < 25 * 3600  # "about 24 h"


async def test_refund_callback_is_enqueued_without_anyone_polling(
    payments: PaymentSimulator, make_order: MakeOrder, clock: FakeClock
) -> None:
    req = make_order()
    await payments.create_order(req)
    await payments.pay(req.out_trade_no)
    [paid_event] = await payments.pending_notifications()
    await payments.mark_delivered(paid_event.event_id)
    await payments.refund(refund_of(req))
    clock.advance(minutes=5)

    [refund_event] = await payments.pending_notifications()

    assert refund_event.event_type == "REFUND.SUCCESS"
    assert refund_event.out_refund_no == "RF-1"
    assert refund_event.refund_status == RefundState.SUCCESS
    assert await payments.pending_notifications() == [refund_event]  # settled only once


async def test_two_simulator_instances_on_one_database_share_state(
    sim_url: str, engine: AsyncEngine, clock: FakeClock, config: SimConfig, make_order: MakeOrder
) -> None:
    # The worker creates and queries; the API's cashier page pays and delivers callbacks.
    api_engine = make_engine(sim_url, durable_commits=False)
    try:
        worker = PaymentSimulator(engine, clock, config, base_url="http://api")
        api = PaymentSimulator(api_engine, clock, config, base_url="http://api")
        req = make_order(amount_fen=33300)
        await worker.force("create_order", 33300, "SYSTEM_ERROR", times=1)

        with pytest.raises(TransientError):
            await api.create_order(req)  # the force stored by one is seen by the other
        await worker.create_order(req)
        await api.pay(req.out_trade_no)

        assert (await worker.query_order(req.out_trade_no)).provider_state == TradeState.SUCCESS
        [delivery] = await api.pending_deliveries()
        assert delivery.notify_url == req.notify_url
        await api.mark_delivered(delivery.notification.event_id)
        assert await worker.pending_notifications() == []

        # Two processes racing on one order: exactly one transition wins, one callback results.
        raced = make_order()
        await worker.create_order(raced)
        outcomes = await asyncio.gather(
            api.pay(raced.out_trade_no),
            worker.pay(raced.out_trade_no),
            return_exceptions=True,
        )
        assert sorted(type(o).__name__ for o in outcomes) == ["ConflictError", "OrderStatus"]
        assert len(await worker.notifications_for(raced.out_trade_no)) == 1
    finally:
        await api_engine.dispose()
