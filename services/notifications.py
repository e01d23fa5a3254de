"""Payment-channel notifications in: de-duplicate by event id, check, signal the workflow."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from adapters.payments.interface import PaymentNotification
from services.context import AppState
from services.timefmt import utc_now
from storage import payments
from storage.db import is_unavailable
from workflows.contract import PaymentNotice, RefundNotice, workflow_id
from workflows.contribution import ContributionWorkflow

log = logging.getLogger("shebao.services.notifications")


def _summary(n: PaymentNotification) -> dict[str, Any]:
    # What we keep of the callback: states and amounts, never payer fields.
    return {
        "trade_state": n.provider_state,
        "state": n.state.value if n.state else None,
        "refund_status": n.refund_status.value if n.refund_status else None,
        "out_refund_no": n.out_refund_no,
        "amount_fen": n.amount_fen,
    }


async def _signal(client: Client, contribution_id: str, n: PaymentNotification) -> None:
    handle = client.get_workflow_handle(workflow_id(contribution_id))
    if n.state is not None and n.provider_state is not None:
        await handle.signal(
            ContributionWorkflow.payment_notified,
            PaymentNotice(
                event_id=n.event_id,
                out_trade_no=n.out_trade_no,
                state=n.state,
                provider_state=n.provider_state,
                transaction_id=n.transaction_id,
                amount_fen=n.amount_fen,
                success_time=n.success_time,
                bank_type=n.bank_type,
            ),
        )
    elif n.refund_status is not None and n.out_refund_no is not None:
        await handle.signal(
            ContributionWorkflow.refund_notified,
            RefundNotice(
                event_id=n.event_id, out_refund_no=n.out_refund_no, status=n.refund_status
            ),
        )


async def _mark_processed(sessions: async_sessionmaker[AsyncSession], event_id: str) -> None:
    async with sessions.begin() as db:
        await payments.mark_event_processed(db, event_id, utc_now())


async def accept_payment_notification(
    sessions: async_sessionmaker[AsyncSession], client: Client, notification: PaymentNotification
) -> bool:
    """Handle one verified notification; True when it is done (acknowledge), False to retry.

    The event is marked processed only once its effect happened (or was deliberately skipped),
    so a crash in between means a redelivery does the work again — signals are idempotent.
    """
    n = notification
    async with sessions.begin() as db:
        await payments.record_event(
            db,
            event_id=n.event_id,
            out_trade_no=n.out_trade_no,
            event_type=n.event_type,
            summary=_summary(n),
            at=utc_now(),
        )
        event = await payments.get_event(db, n.event_id)
        if event is not None and event.processed_at is not None:
            return True  # a redelivery of what we already handled
        payment = await payments.get_payment(db, n.out_trade_no)
    if payment is None:
        log.warning("notification %s for an unknown order %s ignored", n.event_id, n.out_trade_no)
        await _mark_processed(sessions, n.event_id)
        return True
    if n.state is not None and n.amount_fen != payment.amount_fen:
        log.error(
            "notification %s: amount %d differs from order %s (%d); not signalled",
            n.event_id,
            n.amount_fen,
            n.out_trade_no,
            payment.amount_fen,
        )
        await _mark_processed(sessions, n.event_id)
        return True
    try:
        await _signal(client, payment.contribution_id, n)
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            log.warning("notification %s not signalled yet: %s", n.event_id, err.status.name)
            return False
        # The workflow has finished: nothing left to tell it (reconciliation covers money).
        log.info("notification %s: workflow of %s already closed", n.event_id, n.out_trade_no)
    await _mark_processed(sessions, n.event_id)
    return True


class Intake(StrEnum):
    """What became of a verified callback; the provider's route turns it into its answer."""

    DONE = "done"
    ORDER_TOTAL_MISMATCH = "order_total_mismatch"
    TEMPORAL_UNAVAILABLE = "temporal_unavailable"
    RETRY_LATER = "retry_later"


async def intake_callback(
    state: AppState, notification: PaymentNotification, order_total_fen: int
) -> Intake:
    """A verified callback: the order's total checked against ours, then accepted.

    The database restarting or unreachable is RETRY_LATER, as Temporal's absence is: an
    expected moment (the crash run kills PostgreSQL), not a failure to log as unexpected.
    """
    try:
        return await _intake(state, notification, order_total_fen)
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        log.warning(
            "callback %s: database unavailable (%s)", notification.event_id, type(exc).__name__
        )
        return Intake.RETRY_LATER


async def _intake(
    state: AppState, notification: PaymentNotification, order_total_fen: int
) -> Intake:
    n = notification
    async with state.sessions() as db:
        payment = await payments.get_payment(db, n.out_trade_no)
    if payment is not None and order_total_fen != payment.amount_fen:
        log.error(
            "callback %s: order total %d differs from our order %s (%d)",
            n.event_id,
            order_total_fen,
            n.out_trade_no,
            payment.amount_fen,
        )
        return Intake.ORDER_TOTAL_MISMATCH
    client = await state.temporal.connect()
    if client is None:
        return Intake.TEMPORAL_UNAVAILABLE
    if not await accept_payment_notification(state.sessions, client, n):
        return Intake.RETRY_LATER
    return Intake.DONE
