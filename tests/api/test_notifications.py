"""Payment notifications relayed to workflows: de-duplicated, checked, marked when processed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from adapters.payments.interface import PaymentNotification
from adapters.payments.wechatpay.states import EVENT_TRANSACTION_SUCCESS
from domain.payments import PaymentState
from services.notifications import accept_payment_notification
from storage import payments
from tests.api.conftest import ApiStack


def notice(out_trade_no: str, amount_fen: int) -> PaymentNotification:
    now = datetime.now(UTC)
    return PaymentNotification(
        event_id=f"EV-{uuid.uuid4().hex[:20]}",
        event_type=EVENT_TRANSACTION_SUCCESS,
        out_trade_no=out_trade_no,
        out_refund_no=None,
        transaction_id="4200000000000000000000000001",
        state=PaymentState.PAID,
        provider_state="SUCCESS",
        refund_status=None,
        amount_fen=amount_fen,
        success_time=now,
        bank_type="OTHERS",
        create_time=now,
    )


async def processed_at(api: ApiStack, event_id: str) -> datetime | None:
    async with api.sessions() as db:
        event = await payments.get_event(db, event_id)
    assert event is not None
    return event.processed_at


async def test_a_notification_for_an_unknown_order_is_acknowledged_and_ignored(
    api: ApiStack,
) -> None:
    n = notice("SBnosuchorder0000001", 100)
    assert await accept_payment_notification(api.sessions, api.env.client, n)
    assert await processed_at(api, n.event_id) is not None


async def test_an_amount_mismatch_is_not_signalled(api: ApiStack) -> None:
    payer = await api.register()
    started = await api.quote_and_start(payer)
    n = notice(started["payment"]["out_trade_no"], 1)
    assert await accept_payment_notification(api.sessions, api.env.client, n)
    assert await processed_at(api, n.event_id) is not None
    view = await api.status(payer, started["contribution_id"])
    assert view["status"] == "AWAITING_PAYMENT"


async def test_a_redelivered_notification_is_done_once(api: ApiStack) -> None:
    payer = await api.register()
    started = await api.quote_and_start(payer)
    no = started["payment"]["out_trade_no"]
    # Paid at the channel (the workflow confirms every notice there); its own callback aside.
    sim = api.systems.simulators.payments
    assert sim is not None
    await sim.pay(no)
    n = notice(no, started["total_fen"])
    assert await accept_payment_notification(api.sessions, api.env.client, n)
    first = await processed_at(api, n.event_id)
    assert first is not None
    assert await accept_payment_notification(api.sessions, api.env.client, n)
    assert await processed_at(api, n.event_id) == first
    view = await api.wait_for(
        payer, started["contribution_id"], lambda v: v["status"] != "AWAITING_PAYMENT"
    )
    assert view["payment"]["trade_state"] == "SUCCESS"
