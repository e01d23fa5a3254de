"""One contribution as its payer sees it: from storage where its rows say all, else the workflow."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from domain.contribution import ContributionView
from domain.identity import mask_id, mask_name
from domain.vocabulary import (
    PAID_STATUSES,
    STATUS_LABELS,
    TERMINAL_STATUSES,
    ContributionStatus,
)
from services.context import AppState
from services.contribution_handles import query_view
from services.errors import ServiceError
from services.timefmt import LocalDateTime
from storage import contributions, payments, persons, postings, refunds, treasury
from storage.models import Contribution, Person

_MAX_ID_LENGTH = 40

S = ContributionStatus
# Statuses in which the rows the activities wrote are the whole view: awaiting payment once the
# order's cashier URL is stored, and paid or later, or ended except rejected. The step that moves
# a contribution into one of them writes the status with its payment order, payment, posting,
# receipt or refund before the workflow enters it, and nothing that only the workflow holds (who
# holds a month in flight, a review reason) shows in them. They are read from storage: a status
# query waits behind the worker's tasks (over a second under load, docs/benchmarks.md (b)), and
# on a closed workflow, or one the worker no longer caches (10,000 parked ones), it makes the
# worker replay the whole history (its cost: docs/benchmarks.md (b)). The others (verifying,
# rejected, manual review) still ask the workflow, whose answer is exact from the first moment.
READ_FROM_STORAGE = (PAID_STATUSES | TERMINAL_STATUSES | {S.REFUNDING, S.AWAITING_PAYMENT}) - {
    S.REJECTED
}


class TimelineOut(BaseModel):
    status: str
    label: str
    at: LocalDateTime


class PaymentOut(BaseModel):
    out_trade_no: str
    channel: str
    cashier_url: str | None
    expires_at: LocalDateTime
    trade_state: str
    transaction_id: str | None
    paid_at: LocalDateTime | None


class RefundOut(BaseModel):
    out_refund_no: str
    status: str
    amount_fen: int
    requested_at: LocalDateTime | None


class PayerOut(BaseModel):
    """The person paid for, masked."""

    payer_ref: str
    id_type: str
    id_number_masked: str
    name_masked: str


class ContributionOut(BaseModel):
    contribution_id: str
    status: str
    status_label: str
    timeline: list[TimelineOut]
    payer: PayerOut
    insurance: str
    months: list[str]
    total_fen: int
    channel: str
    payment: PaymentOut | None
    refund: RefundOut | None
    expected_treasury_date: date | None
    treasury_date: date | None
    certificate_ready: bool
    reject_reason: str | None
    holder_contribution_id: str | None
    posting_state: str | None
    review_reason: str | None


def contribution_not_found() -> ServiceError:
    return ServiceError(404, "CONTRIBUTION_NOT_FOUND", "未找到该缴费", None)


def _label(status: ContributionStatus) -> str:
    return STATUS_LABELS[status]


def _payer(person: Person) -> PayerOut:
    return PayerOut(
        payer_ref=person.payer_ref,
        id_type=person.id_type.value,
        id_number_masked=mask_id(person.id_number),
        name_masked=mask_name(person.name),
    )


def from_workflow(view: ContributionView, payer: Person) -> ContributionOut:
    p, r = view.payment, view.refund
    return ContributionOut(
        contribution_id=view.contribution_id,
        status=view.status.value,
        status_label=_label(view.status),
        timeline=[
            TimelineOut(status=t.status.value, label=_label(t.status), at=t.at)
            for t in view.timeline
        ],
        payer=_payer(payer),
        insurance=view.insurance.value,
        months=list(view.months),
        total_fen=view.total_fen,
        channel=view.channel.value,
        payment=PaymentOut(
            out_trade_no=p.out_trade_no,
            channel=p.channel.value,
            cashier_url=p.cashier_url,
            expires_at=p.expires_at,
            trade_state=p.trade_state.value,
            transaction_id=p.transaction_id,
            paid_at=p.paid_at,
        )
        if p is not None
        else None,
        refund=RefundOut(
            out_refund_no=r.out_refund_no,
            status=r.status.value,
            amount_fen=r.amount_fen,
            requested_at=r.requested_at,
        )
        if r is not None
        else None,
        expected_treasury_date=view.expected_treasury_date,
        treasury_date=view.treasury_date,
        certificate_ready=view.certificate_ready,
        reject_reason=view.reject_reason.value if view.reject_reason else None,
        holder_contribution_id=view.holder_contribution_id,
        posting_state=view.posting_state.value if view.posting_state else None,
        review_reason=view.review_reason,
    )


async def from_storage(db: AsyncSession, row: Contribution, payer: Person) -> ContributionOut:
    """The rows the activities wrote: for settled statuses, or when the workflow is gone
    (retention) or unreachable."""
    history = await contributions.status_history(db, row.id)
    orders = await payments.payments_for(db, row.id)
    refund_rows = await refunds.refunds_for(db, row.id)
    posting = await postings.get_posting(db, row.id)
    receipt = await treasury.get_receipt(db, row.id)
    order = orders[-1] if orders else None
    refund = refund_rows[-1] if refund_rows else None
    return ContributionOut(
        contribution_id=row.id,
        status=row.status.value,
        status_label=_label(row.status),
        timeline=[
            TimelineOut(status=h.status.value, label=_label(h.status), at=h.at) for h in history
        ],
        payer=_payer(payer),
        insurance=row.insurance.value,
        months=list(row.months),
        total_fen=row.total_fen,
        channel=row.channel.value,
        payment=PaymentOut(
            out_trade_no=order.out_trade_no,
            channel=order.channel.value,
            cashier_url=order.cashier_url,
            expires_at=order.expires_at,
            trade_state=order.trade_state.value,
            transaction_id=order.transaction_id,
            paid_at=order.paid_at,
        )
        if order is not None
        else None,
        refund=RefundOut(
            out_refund_no=refund.out_refund_no,
            status=refund.status.value,
            amount_fen=refund.amount_fen,
            requested_at=refund.requested_at,
        )
        if refund is not None
        else None,
        expected_treasury_date=row.expected_treasury_date,
        treasury_date=receipt.treasury_date if receipt is not None else None,
        certificate_ready=row.status == ContributionStatus.COMPLETED,
        reject_reason=row.reject_reason.value if row.reject_reason else None,
        holder_contribution_id=None,
        posting_state=posting.state.value if posting is not None else None,
        review_reason=None,
    )


async def find_contribution(
    state: AppState, contribution_id: str, viewer: Person | None
) -> tuple[Contribution, Person]:
    """The row and the person paid for; 404 unless the viewer paid it or was paid for.

    viewer None is an operator, who may see any contribution.
    """
    async with state.sessions() as db:
        return await _find(db, contribution_id, viewer)


async def _find(
    db: AsyncSession, contribution_id: str, viewer: Person | None
) -> tuple[Contribution, Person]:
    if len(contribution_id) > _MAX_ID_LENGTH:
        raise contribution_not_found()
    row = await contributions.get_contribution(db, contribution_id)
    payer: Person | None = None
    if row is not None:
        # Most payers pay for themselves: the signed-in person is already loaded.
        if viewer is not None and viewer.id == row.person_id:
            payer = viewer
        else:
            payer = await persons.get_person(db, row.person_id)
    if row is None or payer is None:
        raise contribution_not_found()
    if viewer is not None and viewer.id not in (row.person_id, row.requested_by_person_id):
        raise contribution_not_found()
    return row, payer


async def load_contribution(
    state: AppState, contribution_id: str, viewer: Person | None
) -> ContributionOut:
    async with state.sessions() as db:
        row, payer = await _find(db, contribution_id, viewer)
        if row.status in READ_FROM_STORAGE:
            # One transaction for the row and the view: no second one per status read.
            stored = await from_storage(db, row, payer)
            # An order created before cashier URLs were stored: the workflow has it.
            if row.status != S.AWAITING_PAYMENT or (stored.payment and stored.payment.cashier_url):
                return stored
    view = await query_view(await state.temporal.connect(), contribution_id)
    if view is not None:
        return from_workflow(view, payer)
    async with state.sessions() as db:
        return await from_storage(db, row, payer)
