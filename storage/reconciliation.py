"""Reconciliation: our side of a bill date (payments, refunds) and the stored daily reports."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.payments import CHARGED_STATES, RefundState
from storage._sql import insert_ignore
from storage.models import (
    Contribution,
    Payment,
    ReconciliationReportRow,
    ReconciliationReview,
    Refund,
)

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


# ---- the review queue of paid orders storage does not hold -------------------------------------

# OPEN → DISMISSED, or OPEN → REFUND_APPROVED (by an operator) → REFUNDED (by the next run of
# reconciliation, which refunds through the worker's channel under a fixed refund number).
REVIEW_OPEN: Final = "OPEN"
REVIEW_REFUND_APPROVED: Final = "REFUND_APPROVED"
REVIEW_REFUNDED: Final = "REFUNDED"
REVIEW_DISMISSED: Final = "DISMISSED"
REVIEW_STATUSES: Final = (REVIEW_OPEN, REVIEW_REFUND_APPROVED, REVIEW_REFUNDED, REVIEW_DISMISSED)


async def queue_reviews(
    session: AsyncSession, items: Sequence[Mapping[str, Any]], *, bill_date: date, at: datetime
) -> int:
    """Queue unknown paid orders (out_trade_no, transaction_id, amount_fen, trade_time, reason)
    for an operator; one entry per order, so a re-run of reconciliation adds nothing."""
    rows = [
        {
            "out_trade_no": item["out_trade_no"],
            "transaction_id": item["transaction_id"],
            "amount_fen": item["amount_fen"],
            "trade_time": item["trade_time"],
            "reason": item["reason"],
            "bill_date": bill_date,
            "status": REVIEW_OPEN,
            "created_at": at,
        }
        for item in items
    ]
    return await insert_ignore(session, ReconciliationReview, rows)


async def list_reviews(
    session: AsyncSession, *, status: str | None = REVIEW_OPEN, limit: int = 100
) -> list[ReconciliationReview]:
    """Oldest first: the queue in the order the money arrived."""
    query = select(ReconciliationReview)
    if status is not None:
        query = query.where(ReconciliationReview.status == status)
    query = query.order_by(ReconciliationReview.trade_time, ReconciliationReview.out_trade_no)
    return list((await session.execute(query.limit(limit))).scalars())


async def review_for_update(
    session: AsyncSession, out_trade_no: str
) -> ReconciliationReview | None:
    return await session.get(
        ReconciliationReview, out_trade_no, with_for_update=True, populate_existing=True
    )


async def approved_refunds(session: AsyncSession, out_trade_nos: Collection[str]) -> list[str]:
    """Which of these orders an operator decided to refund (and are not refunded yet)."""
    numbers = sorted(set(out_trade_nos))
    approved: list[str] = []
    for i in range(0, len(numbers), _CHUNK):
        result = await session.execute(
            select(ReconciliationReview.out_trade_no).where(
                ReconciliationReview.out_trade_no.in_(numbers[i : i + _CHUNK]),
                ReconciliationReview.status == REVIEW_REFUND_APPROVED,
            )
        )
        approved.extend(result.scalars())
    return sorted(approved)


async def record_review_refund(
    session: AsyncSession, out_trade_no: str, *, out_refund_no: str, refund_status: str
) -> None:
    """The approved refund was requested: the entry leaves the queue (REFUNDED)."""
    row = await review_for_update(session, out_trade_no)
    if row is None or row.status not in (REVIEW_REFUND_APPROVED, REVIEW_REFUNDED):
        return
    row.status = REVIEW_REFUNDED
    row.out_refund_no = out_refund_no
    row.refund_status = refund_status
    await session.flush()


async def decide_review(
    session: AsyncSession,
    row: ReconciliationReview,
    *,
    status: str,
    actor: str,
    note: str,
    at: datetime,
) -> None:
    """An operator's decision on an OPEN entry (the caller holds the row's lock)."""
    row.status = status
    row.decided_by = actor
    row.note = note
    row.decided_at = at
    await session.flush()
