"""One contribution as its payer sees it, read from storage: the rows each step writes."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.payments.wechatpay.provider import NAME as WECHATPAY
from adapters.payments.wechatpay.states import paid_with as wechatpay_paid_with
from domain.identity import mask_id, mask_name
from domain.vocabulary import (
    STATUS_LABELS,
    ContributionStatus,
)
from services.context import AppState
from services.errors import ServiceError
from services.timefmt import LocalDateTime
from storage import contributions, payments, persons, postings, refunds, treasury
from storage.models import Contribution, Person
from workflows.contract import (
    ContributionView,
    PaymentView,
    RefundView,
    TimelineEntry,
)

_MAX_ID_LENGTH = 40


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
    # What actually paid (零钱 or a bank card), as the channel reported it; None until paid.
    paid_with: str | None = None


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
    # True: the date leans on a provisional calendar year, and the pages say 预计.
    expected_treasury_provisional: bool = False
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


def contribution_out(view: ContributionView, payer: Person) -> ContributionOut:
    """The one builder of the payer's view, from what stored_view read."""
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
            trade_state=p.provider_state or p.state.value,
            transaction_id=p.transaction_id,
            paid_at=p.paid_at,
            paid_with=p.paid_with.value if p.paid_with is not None else None,
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
        expected_treasury_provisional=view.expected_treasury_provisional,
        treasury_date=view.treasury_date,
        certificate_ready=view.certificate_ready,
        reject_reason=view.reject_reason.value if view.reject_reason else None,
        holder_contribution_id=view.holder_contribution_id,
        posting_state=view.posting_state.value if view.posting_state else None,
        review_reason=view.review_reason,
    )


async def stored_view(db: AsyncSession, row: Contribution) -> ContributionView:
    """The read model: a contribution as the rows its steps wrote, each in the step's own
    transaction, say it is. Every status read comes from here, never from the workflow."""
    history = await contributions.status_history(db, row.id)
    orders = await payments.payments_for(db, row.id)
    refund_rows = await refunds.refunds_for(db, row.id)
    posting = await postings.get_posting(db, row.id)
    receipt = await treasury.get_receipt(db, row.id)
    order = orders[-1] if orders else None
    refund = refund_rows[-1] if refund_rows else None
    return ContributionView(
        contribution_id=row.id,
        status=row.status,
        timeline=[TimelineEntry(status=h.status, at=h.at) for h in history],
        insurance=row.insurance,
        months=list(row.months),
        total_fen=row.total_fen,
        channel=row.channel,
        payment=PaymentView(
            out_trade_no=order.out_trade_no,
            channel=order.channel,
            cashier_url=order.cashier_url,
            expires_at=order.expires_at,
            state=order.state,
            provider_state=order.provider_state,
            transaction_id=order.transaction_id,
            paid_at=order.paid_at,
            paid_with=wechatpay_paid_with(order.bank_type) if order.provider == WECHATPAY else None,
        )
        if order is not None
        else None,
        refund=RefundView(
            out_refund_no=refund.out_refund_no,
            status=refund.status,
            amount_fen=refund.amount_fen,
            requested_at=refund.requested_at,
        )
        if refund is not None
        else None,
        reject_reason=row.reject_reason,
        holder_contribution_id=row.holder_contribution_id,
        posting_state=posting.state if posting is not None else None,
        posting_reason=posting.reason if posting is not None else None,
        expected_treasury_date=row.expected_treasury_date,
        expected_treasury_provisional=row.expected_treasury_provisional,
        treasury_date=receipt.treasury_date if receipt is not None else None,
        certificate_ready=row.status == ContributionStatus.COMPLETED,
        review_reason=row.review_reason,
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
    """GET one contribution: the row and its view in one read transaction."""
    async with state.sessions() as db:
        row, payer = await _find(db, contribution_id, viewer)
        return contribution_out(await stored_view(db, row), payer)
