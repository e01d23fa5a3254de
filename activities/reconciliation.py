"""The reconciliation workflow's activities: fetch the bill, load our side, heal, store."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from adapters.clock import activity_clock
from adapters.errors import AuthError, ConflictError, InvalidRequestError, NotFoundError
from adapters.payments.interface import BillRow, RefundRequest
from adapters.payments.registry import PaymentProviders, Provider
from domain.payments import CHARGED_STATES, PaymentState
from domain.reconciliation import (
    BillEntry,
    HealingAction,
    MissedCallback,
    OrphanPayment,
    OurPayment,
    OurRefund,
    day_bounds,
)
from domain.reconciliation_messages import (
    BillFetched,
    OurSide,
    OurSideRequest,
    StoreReport,
)
from storage import reconciliation as repo
from workflows.contract import PAYMENT_NOTIFIED, PaymentNotice, workflow_id
from workflows.contract import ReconciliationSteps as Steps

log = logging.getLogger(__name__)

ORPHAN_REFUND_REASON = "对账发现无对应缴费，原路退款"


def bill_entry(row: BillRow, provider: Provider) -> BillEntry | None:
    """A provider's bill line in our states; None for a state the provider's mapping lacks."""
    try:
        state = provider.payment_state(row.trade_state)
        refund_status = provider.refund_state(row.refund_status) if row.refund_status else None
    except ValueError:
        return None
    return BillEntry(
        trade_time=row.trade_time,
        out_trade_no=row.out_trade_no,
        transaction_id=row.transaction_id or None,
        state=state,
        amount_fen=row.amount_fen,
        refund_fen=row.refund_fen,
        out_refund_no=row.out_refund_no,
        refund_status=refund_status,
    )


def _non_retryable(err: Exception) -> ApplicationError:
    return ApplicationError(str(err), type=type(err).__name__, non_retryable=True)


class ReconciliationActivities:
    """Holds the database and the payment providers; each method is one activity.

    The day's bill is the default provider's: every order so far was placed with it.
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], providers: PaymentProviders
    ) -> None:
        self._sessions = sessions
        self._providers = providers

    def all(self) -> list[Callable[..., Awaitable[object]]]:
        """Every activity, for the worker's registration."""
        return [
            self.fetch_bill,
            self.load_our_side,
            self.signal_missed_callback,
            self.refund_orphan,
            self.store_report,
        ]

    @activity.defn(name=Steps.FETCH_BILL.name)
    async def fetch_bill(self, bill_date: date) -> BillFetched:
        """The channel's bill of the day (not ready yet → the channel's error, retried)."""
        provider = self._providers.default
        try:
            rows = await provider.channel.trade_bill(bill_date)
        except (InvalidRequestError, AuthError) as err:
            raise _non_retryable(err) from err
        entries = [bill_entry(row, provider) for row in rows]
        known = [e for e in entries if e is not None]
        unknown = len(entries) - len(known)
        if unknown:
            log.warning("bill %s: %d lines with an unknown state", bill_date, unknown)
        return BillFetched(entries=known, unknown_lines=unknown)

    @activity.defn(name=Steps.LOAD_OUR_SIDE.name)
    async def load_our_side(self, req: OurSideRequest) -> OurSide:
        start, end = day_bounds(req.bill_date)
        async with self._sessions() as session:
            pairs = await repo.payments_for_reconciliation(
                session, req.out_trade_nos, paid_from=start, paid_to=end
            )
            refunds = await repo.processing_refunds(session, requested_before=req.stuck_before)
            approved = await repo.approved_refunds(session, req.out_trade_nos)
        return OurSide(
            payments=[
                OurPayment(
                    out_trade_no=p.out_trade_no,
                    contribution_id=c.id,
                    contribution_status=c.status,
                    state=p.state,
                    amount_fen=p.amount_fen,
                    paid_at=p.paid_at,
                )
                for p, c in pairs
            ],
            refunds=[
                OurRefund(
                    out_refund_no=r.out_refund_no,
                    out_trade_no=r.out_trade_no,
                    contribution_id=r.contribution_id,
                    status=r.status,
                    amount_fen=r.amount_fen,
                    requested_at=r.requested_at,
                )
                for r in refunds
            ],
            approved_refunds=approved,
        )

    @activity.defn(name=Steps.SIGNAL_MISSED_CALLBACK.name)
    async def signal_missed_callback(self, missed: MissedCallback) -> HealingAction:
        """Ask the channel for the order, then tell the contribution as its callback would have.

        The event id is fixed per transaction, so a re-run (or a late real callback carrying
        the same facts) is ignored by the workflow's de-duplication.
        """
        action = HealingAction(
            kind="signal",
            out_trade_no=missed.out_trade_no,
            contribution_id=missed.contribution_id,
            outcome="PENDING",
        )
        try:
            order = await self._providers.default.channel.query_order(missed.out_trade_no)
        except (InvalidRequestError, AuthError) as err:
            raise _non_retryable(err) from err
        except NotFoundError:
            return action.model_copy(update={"outcome": "NOT_PAID", "detail": "ORDER_NOT_EXIST"})
        if order.state not in CHARGED_STATES:
            return action.model_copy(update={"outcome": "NOT_PAID", "detail": order.provider_state})
        notice = PaymentNotice(
            event_id=f"reconciliation-{order.transaction_id or missed.out_trade_no}",
            out_trade_no=order.out_trade_no,
            state=PaymentState.PAID,
            provider_state=self._providers.default.paid_state,
            transaction_id=order.transaction_id,
            amount_fen=order.amount_fen,
            success_time=order.success_time or missed.trade_time,
            bank_type=order.bank_type,
        )
        handle = activity.client().get_workflow_handle(workflow_id(missed.contribution_id))
        try:
            # By name: activities must not import workflow code (its sandbox imports would run).
            await handle.signal(PAYMENT_NOTIFIED, notice)
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            # The workflow ended meanwhile: the next run sees its final status.
            return action.model_copy(update={"outcome": "WORKFLOW_CLOSED"})
        return action.model_copy(update={"outcome": "SIGNALLED"})

    @activity.defn(name=Steps.REFUND_ORPHAN.name)
    async def refund_orphan(self, orphan: OrphanPayment) -> HealingAction:
        """Refund the whole payment through its channel under the orphan's fixed refund number.

        Transient and unknown outcomes are retried with the same number (the channel refunds
        once per number); a refusal is reported, for an operator, instead of failing the run.
        """
        action = HealingAction(
            kind="refund",
            out_trade_no=orphan.out_trade_no,
            contribution_id=orphan.contribution_id,
            out_refund_no=orphan.out_refund_no,
            outcome="PENDING",
        )
        try:
            status = await self._providers.default.channel.refund(
                RefundRequest(
                    out_refund_no=orphan.out_refund_no,
                    out_trade_no=orphan.out_trade_no,
                    amount_fen=orphan.amount_fen,
                    total_fen=orphan.amount_fen,
                    reason=ORPHAN_REFUND_REASON,
                )
            )
        except AuthError as err:
            raise _non_retryable(err) from err
        except (InvalidRequestError, ConflictError, NotFoundError) as err:
            log.error("orphan %s: refund refused (%s)", orphan.out_trade_no, type(err).__name__)
            return action.model_copy(update={"outcome": "REFUSED", "detail": str(err)[:200]})
        return action.model_copy(update={"outcome": status.status.value})

    @activity.defn(name=Steps.STORE_REPORT.name)
    async def store_report(self, req: StoreReport) -> None:
        report = req.report
        counts = {
            "bill_payments": report.totals.bill_payments,
            "bill_payment_fen": report.totals.bill_payment_fen,
            "missed_callbacks": len(report.missed_callbacks),
            "orphan_payments": len(report.orphan_payments),
            "amount_mismatches": len(report.amount_mismatches),
            "stuck_refunds": len(report.stuck_refunds),
            "missing_from_bill": len(report.missing_from_bill),
        }
        async with self._sessions.begin() as session:
            await repo.save_report(
                session,
                bill_date=report.bill_date,
                workflow_id=req.workflow_id,
                counts=counts,
                clean=report.clean,
                report=report.model_dump(mode="json"),
                at=activity_clock(),
            )
            # Paid orders storage does not hold wait for an operator: never refunded here.
            await repo.queue_reviews(
                session,
                [u.model_dump() for u in report.unknown_orders],
                bill_date=report.bill_date,
                at=activity_clock(),
            )
            # An approved refund the channel took leaves the queue (an unknown order's refund
            # is the only one without a contribution).
            for action in report.actions:
                requested = action.outcome != "REFUSED" and action.out_refund_no is not None
                if action.kind == "refund" and action.contribution_id is None and requested:
                    assert action.out_refund_no is not None
                    await repo.record_review_refund(
                        session,
                        action.out_trade_no,
                        out_refund_no=action.out_refund_no,
                        refund_status=action.outcome,
                    )
