"""Reconciliation: our side of a bill date (payments, refunds) and the stored daily reports."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.payments import CHARGED_STATES, RefundState
from storage.models import Contribution, Payment, ReconciliationReportRow, Refund

# Keeps each IN (...) list well under every backend's bound-parameter limit.
_CHUNK: Final = 500
_PAID: Final = tuple(CHARGED_STATES)


async def payments_for_reconciliation(
    session: AsyncSession,
    out_trade_nos: Collection[str],
    *,
    paid_from: datetime,
    paid_to: datetime,
) -> list[tuple[Payment, Contribution]]:
    """Our payments named by the bill, plus those we recorded paid in [paid_from, paid_to).

    Each comes with its contribution (for the status), ordered by out_trade_no.
    """
    found: dict[str, tuple[Payment, Contribution]] = {}
    numbers = sorted(set(out_trade_nos))
    base = select(Payment, Contribution).join(
        Contribution, Contribution.id == Payment.contribution_id
    )
    for i in range(0, len(numbers), _CHUNK):
        chunk = numbers[i : i + _CHUNK]
        for payment, contribution in await session.execute(
            base.where(Payment.out_trade_no.in_(chunk))
        ):
            found[payment.out_trade_no] = (payment, contribution)
    paid_that_day = base.where(
        Payment.state.in_(_PAID),
        Payment.paid_at >= paid_from,
        Payment.paid_at < paid_to,
    )
    for payment, contribution in await session.execute(paid_that_day):
        found[payment.out_trade_no] = (payment, contribution)
    return [found[no] for no in sorted(found)]


async def processing_refunds(session: AsyncSession, *, requested_before: datetime) -> list[Refund]:
    """Refunds still PROCESSING that were requested before the given moment, oldest first."""
    result = await session.execute(
        select(Refund)
        .where(Refund.status == RefundState.PROCESSING, Refund.requested_at < requested_before)
        .order_by(Refund.requested_at, Refund.out_refund_no)
    )
    return list(result.scalars())


async def save_report(
    session: AsyncSession,
    *,
    bill_date: date,
    workflow_id: str,
    counts: dict[str, int],
    clean: bool,
    report: dict[str, Any],
    at: datetime,
) -> ReconciliationReportRow:
    """Store the day's report; a later run of the same date replaces it (latest wins)."""
    row = await session.get(
        ReconciliationReportRow, bill_date, with_for_update=True, populate_existing=True
    )
    if row is None:
        row = ReconciliationReportRow(bill_date=bill_date, created_at=at)
        session.add(row)
    row.workflow_id = workflow_id
    row.clean = clean
    row.bill_payments = counts["bill_payments"]
    row.bill_payment_fen = counts["bill_payment_fen"]
    row.missed_callbacks = counts["missed_callbacks"]
    row.orphan_payments = counts["orphan_payments"]
    row.amount_mismatches = counts["amount_mismatches"]
    row.stuck_refunds = counts["stuck_refunds"]
    row.missing_from_bill = counts["missing_from_bill"]
    row.report = report
    row.updated_at = at
    await session.flush()
    return row


async def get_report(session: AsyncSession, bill_date: date) -> ReconciliationReportRow | None:
    return await session.get(ReconciliationReportRow, bill_date)


async def list_reports(
    session: AsyncSession,
    *,
    bill_date: date | None = None,
    only_with_findings: bool = False,
    limit: int = 30,
) -> list[ReconciliationReportRow]:
    """Newest bill date first."""
    query = select(ReconciliationReportRow)
    if bill_date is not None:
        query = query.where(ReconciliationReportRow.bill_date == bill_date)
    if only_with_findings:
        query = query.where(ReconciliationReportRow.clean.is_(False))
    query = query.order_by(ReconciliationReportRow.bill_date.desc()).limit(limit)
    return list((await session.execute(query)).scalars())
