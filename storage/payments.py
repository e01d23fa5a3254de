"""Payment orders at the channel and the callbacks (events) it sends about them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.payments import PaymentState
from domain.vocabulary import Channel
from storage._sql import insert_ignore, insert_or_get, table_of
from storage.errors import NotFound
from storage.models import CASHIER_URL_MAX, Payment, PaymentEvent

# States a payment never leaves for a "lesser" one: money moved (PAID) or went back (REFUNDED).
_AFTER_SUCCESS: Final = frozenset({PaymentState.PAID, PaymentState.REFUNDED})


async def add_payment(
    session: AsyncSession,
    *,
    out_trade_no: str,
    contribution_id: str,
    channel: Channel,
    amount_fen: int,
    expires_at: datetime,
    at: datetime,
    provider: str,
    product: str,
    provider_state: str,
) -> Payment:
    """Record a new payment order (PENDING, in the provider's words `provider_state`) at
    `provider` with its `product`; a retry returns the existing one unchanged."""
    payment, _inserted = await insert_or_get(
        session,
        Payment,
        {
            "out_trade_no": out_trade_no,
            "contribution_id": contribution_id,
            "channel": channel,
            "amount_fen": amount_fen,
            "expires_at": expires_at,
            "provider": provider,
            "product": product,
            "state": PaymentState.PENDING,
            "provider_state": provider_state,
            "created_at": at,
            "updated_at": at,
        },
    )
    return payment


async def set_cashier_url(session: AsyncSession, out_trade_no: str, cashier_url: str) -> None:
    """Keep where the payer pays, as the channel gave it when it created the order.

    A URL longer than the column (CASHIER_URL_MAX) is not kept: PostgreSQL would refuse it, and
    the step that stores it would be retried without end. The status route then asks the
    workflow, which has it.
    """
    if len(cashier_url) > CASHIER_URL_MAX:
        return
    table = table_of(Payment)
    await session.execute(
        update(table).where(table.c.out_trade_no == out_trade_no).values(cashier_url=cashier_url)
    )


async def get_payment(session: AsyncSession, out_trade_no: str) -> Payment | None:
    return await session.get(Payment, out_trade_no)


def _may_move(current: PaymentState, new: PaymentState) -> bool:
    if current == PaymentState.REFUNDED:
        return new == PaymentState.REFUNDED
    if current == PaymentState.PAID:
        # A late PENDING/CLOSED answer (stale query, out-of-order callback) must not undo a
        # payment; only a refund follows success.
        return new in _AFTER_SUCCESS
    # PAID may follow anything else, CLOSED included: the channel is the truth about money
    # (the payer can pay in the last second before a close).
    return True


async def update_payment_state(
    session: AsyncSession,
    out_trade_no: str,
    state: PaymentState,
    provider_state: str,
    *,
    transaction_id: str | None = None,
    bank_type: str | None = None,
    paid_at: datetime | None = None,
    at: datetime,
) -> Payment:
    """Apply what the provider says about the order (our state and its own word for it);
    never moves PAID back to unpaid."""
    payment = await session.get(Payment, out_trade_no, with_for_update=True, populate_existing=True)
    if payment is None:
        raise NotFound("payment", out_trade_no)
    changed = False
    if payment.state != state and _may_move(payment.state, state):
        payment.state = state
        payment.provider_state = provider_state
        changed = True
    updates: dict[str, Any] = {
        "transaction_id": transaction_id,
        "bank_type": bank_type,
        "paid_at": paid_at,
    }
    for field, value in updates.items():
        if value is not None and getattr(payment, field) != value:
            setattr(payment, field, value)
            changed = True
    if changed:
        payment.updated_at = at
    await session.flush()
    return payment


async def payments_for(session: AsyncSession, contribution_id: str) -> list[Payment]:
    result = await session.execute(
        select(Payment)
        .where(Payment.contribution_id == contribution_id)
        .order_by(Payment.created_at, Payment.out_trade_no)
    )
    return list(result.scalars())


async def record_event(
    session: AsyncSession,
    *,
    event_id: str,
    out_trade_no: str,
    event_type: str,
    summary: dict[str, Any],
    at: datetime,
) -> bool:
    """Keep a callback once; True when it is new (a redelivery returns False)."""
    inserted = await insert_ignore(
        session,
        PaymentEvent,
        [
            {
                "event_id": event_id,
                "out_trade_no": out_trade_no,
                "event_type": event_type,
                "received_at": at,
                "summary": summary,
            }
        ],
    )
    return inserted == 1


async def mark_event_processed(session: AsyncSession, event_id: str, at: datetime) -> None:
    """Stamp the event as processed; the first stamp stays on a retry."""
    event = await session.get(PaymentEvent, event_id)
    if event is None:
        raise NotFound("payment event", event_id)
    if event.processed_at is None:
        event.processed_at = at
        await session.flush()


async def get_event(session: AsyncSession, event_id: str) -> PaymentEvent | None:
    return await session.get(PaymentEvent, event_id)


async def unprocessed_events(session: AsyncSession, *, limit: int = 100) -> list[PaymentEvent]:
    """Events received but never processed, oldest first (for a sweeper)."""
    result = await session.execute(
        select(PaymentEvent)
        .where(PaymentEvent.processed_at.is_(None))
        .order_by(PaymentEvent.received_at, PaymentEvent.event_id)
        .limit(limit)
    )
    return list(result.scalars())
