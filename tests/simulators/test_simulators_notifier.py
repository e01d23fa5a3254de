"""The in-process callback deliverer: acknowledged, refused and not-now answers."""

from __future__ import annotations

from collections.abc import Callable

from adapters.payments.interface import CreateOrder, PaymentNotification
from simulators.notifier import deliver_once
from simulators.payments import PaymentSimulator


async def paid_order(payments: PaymentSimulator, make_order: Callable[..., CreateOrder]) -> str:
    req = make_order()
    await payments.create_order(req)
    await payments.pay(req.out_trade_no)
    return req.out_trade_no


async def test_an_acknowledged_notification_is_delivered_once(
    payments: PaymentSimulator, make_order: Callable[..., CreateOrder]
) -> None:
    no = await paid_order(payments, make_order)
    seen: list[PaymentNotification] = []

    async def accept(notification: PaymentNotification) -> bool:
        seen.append(notification)
        return True

    assert await deliver_once(payments, accept) == 1
    assert [n.out_trade_no for n in seen] == [no]
    assert await payments.pending_notifications() == []


async def test_a_refused_notification_waits_for_a_retry(
    payments: PaymentSimulator, make_order: Callable[..., CreateOrder]
) -> None:
    await paid_order(payments, make_order)

    async def refuse(_notification: PaymentNotification) -> bool:
        return False

    assert await deliver_once(payments, refuse) == 0
    # Retried after a pause, not at once.
    assert await payments.pending_notifications() == []


async def test_not_now_leaves_every_notification_pending_without_an_attempt(
    payments: PaymentSimulator, make_order: Callable[..., CreateOrder]
) -> None:
    await paid_order(payments, make_order)
    await paid_order(payments, make_order)
    asked = 0

    async def not_now(_notification: PaymentNotification) -> None:
        nonlocal asked
        asked += 1

    assert await deliver_once(payments, not_now) == 0
    assert asked == 1  # the rest were not offered
    pending = await payments.pending_deliveries()
    assert len(pending) == 2 and all(d.attempts == 0 for d in pending)
