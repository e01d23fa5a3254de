"""The gateway's callbacks: signed and encrypted like WeChat's, retried, and the fault switches."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI, Request, Response

from adapters.payments.interface import CreateOrder, PaymentNotification
from adapters.payments.wechatpay.callback import CallbackRejected, CallbackVerifier
from adapters.payments.wechatpay.states import TradeState
from domain.payments import PaymentState
from simulators.config import SimConfig
from simulators.wechatpay_gateway.server import serving
from tests.adapters.wechatpay_stack import Gateway, gateway_settings, running_gateway
from tests.simulators.fakes import FakeClock


@dataclass
class Receiver:
    """Our side of the wire, verifying with the real CallbackVerifier."""

    url: str = ""
    accepted: list[PaymentNotification] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    fail_next: int = 0


@pytest.fixture
async def gw(tmp_path: Path, clock: FakeClock, config: SimConfig) -> AsyncIterator[Gateway]:
    # deliver=False: the test drives each delivery round itself.
    settings = gateway_settings(tmp_path)
    async with running_gateway(
        settings, clock, config, deliver=False, out_of_order_window_s=0.05
    ) as gateway:
        yield gateway


@pytest.fixture
async def receiver(gw: Gateway) -> AsyncIterator[Receiver]:
    verifier = CallbackVerifier.from_config(gw.channel_config)
    state = Receiver()
    app = FastAPI()

    @app.post("/notify")
    async def notify(request: Request) -> Response:
        try:
            verified = verifier.verify(request.headers, await request.body())
        except CallbackRejected as err:
            state.rejected.append(err.reason)
            return Response(status_code=err.status)
        if state.fail_next > 0:
            state.fail_next -= 1
            return Response(status_code=500)
        state.accepted.append(verified.notification)
        return Response(status_code=204)

    async with serving(app) as url:
        state.url = f"{url}/notify"
        yield state


async def _paid_order(
    gw: Gateway, receiver: Receiver, make_order: Callable[..., CreateOrder], **fields: object
) -> CreateOrder:
    order = make_order(notify_url=receiver.url, **fields)
    await gw.channel.create_order(order)
    await gw.sim.pay(order.out_trade_no)
    return order


async def test_a_payment_callback_is_signed_encrypted_and_decrypts_to_the_payment(
    gw: Gateway, receiver: Receiver, make_order: Callable[..., CreateOrder]
) -> None:
    order = await _paid_order(gw, receiver, make_order)
    assert await gw.deliverer.deliver_once() == 1
    [n] = receiver.accepted
    stored = await gw.sim.order(order.out_trade_no)
    assert n.event_type == "TRANSACTION.SUCCESS" and n.provider_state == TradeState.SUCCESS
    assert n.state == PaymentState.PAID
    assert n.out_trade_no == order.out_trade_no and n.amount_fen == order.amount_fen
    assert n.transaction_id == stored.transaction_id and n.bank_type == "OTHERS"
    [sent] = await gw.sim.notifications_for(order.out_trade_no)
    assert sent.delivered_at is not None
    assert await gw.deliverer.deliver_once() == 0  # acknowledged: never sent again


async def test_a_refused_callback_is_retried_on_the_wechat_schedule(
    gw: Gateway, receiver: Receiver, clock: FakeClock, make_order: Callable[..., CreateOrder]
) -> None:
    order = await _paid_order(gw, receiver, make_order)
    receiver.fail_next = 2
    assert await gw.deliverer.deliver_once() == 0
    assert await gw.deliverer.deliver_once() == 0  # not due before the first 15 s
    clock.advance(seconds=15)
    assert await gw.deliverer.deliver_once() == 0  # second failure: next in another 15 s
    clock.advance(seconds=14)
    assert await gw.deliverer.deliver_once() == 0
    assert receiver.fail_next == 0 and receiver.accepted == []
    clock.advance(seconds=1)
    assert await gw.deliverer.deliver_once() == 1
    [sent] = await gw.sim.notifications_for(order.out_trade_no)
    assert sent.attempts == 2 and sent.delivered_at is not None


async def test_duplicate_switch_sends_the_same_event_id_twice(
    gw: Gateway, receiver: Receiver, make_order: Callable[..., CreateOrder]
) -> None:
    gw.switches.duplicate = True
    await _paid_order(gw, receiver, make_order)
    await gw.deliverer.deliver_once()
    assert len(receiver.accepted) == 2
    assert receiver.accepted[0].event_id == receiver.accepted[1].event_id


async def test_lose_switch_drops_callbacks_for_good(
    gw: Gateway, receiver: Receiver, clock: FakeClock, make_order: Callable[..., CreateOrder]
) -> None:
    gw.switches.lose = True
    order = await _paid_order(gw, receiver, make_order)
    await gw.deliverer.deliver_once()
    gw.switches.lose = False
    clock.advance(hours=25)
    await gw.deliverer.deliver_once()
    assert receiver.accepted == []
    [sent] = await gw.sim.notifications_for(order.out_trade_no)
    assert sent.abandoned_at is not None
    assert (await gw.admin.stats()).lost == 1


async def test_bad_signature_probes_are_rejected_and_the_real_callback_accepted(
    gw: Gateway, receiver: Receiver, make_order: Callable[..., CreateOrder]
) -> None:
    gw.switches.bad_signature_probe = True
    await _paid_order(gw, receiver, make_order)
    assert await gw.deliverer.deliver_once() == 1
    assert receiver.rejected == ["bad signature"] and len(receiver.accepted) == 1
    stats = await gw.admin.stats()
    assert stats.probes_rejected == 1 and stats.probes_accepted == 0


async def test_out_of_order_switch_holds_a_batch_and_sends_it_newest_first(
    gw: Gateway, receiver: Receiver, clock: FakeClock, make_order: Callable[..., CreateOrder]
) -> None:
    await gw.admin.set_switches(gw.switches.model_copy(update={"out_of_order": True}))
    first = await _paid_order(gw, receiver, make_order)
    clock.advance(seconds=1)
    second = await _paid_order(gw, receiver, make_order)
    # Held for the window, then released together (the admin endpoint drives one round).
    while await gw.admin.deliver() == 0:
        pass
    assert [n.out_trade_no for n in receiver.accepted] == [
        second.out_trade_no,
        first.out_trade_no,
    ]


async def test_refund_callbacks_carry_the_refund_and_the_order_total(
    gw: Gateway, receiver: Receiver, clock: FakeClock, make_order: Callable[..., CreateOrder]
) -> None:
    from adapters.payments.interface import RefundRequest

    order = await _paid_order(gw, receiver, make_order)
    await gw.deliverer.deliver_once()
    await gw.channel.refund(
        RefundRequest(
            out_refund_no=f"R{order.out_trade_no}",
            out_trade_no=order.out_trade_no,
            amount_fen=500,
            total_fen=order.amount_fen,
            reason="退款",
            notify_url=receiver.url,
        )
    )
    clock.advance(seconds=300)
    assert await gw.deliverer.deliver_once() == 1
    refund = receiver.accepted[-1]
    assert refund.event_type == "REFUND.SUCCESS" and refund.amount_fen == 500
    assert refund.out_refund_no == f"R{order.out_trade_no}"
    assert refund.create_time <= clock() + timedelta(seconds=1)
