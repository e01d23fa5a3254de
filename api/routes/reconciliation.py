"""Operator side of daily reconciliation (对账): the reports, a run now, the review queue."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.auth import Operator
from api.openapi import OPERATOR, VALIDATION, errors
from api.state import State
from services import reconciliation_reports as reports
from services import reconciliation_reviews as reviews
from services.reconciliation_reviews import ReviewDecision
from services.timefmt import LocalDateTime
from storage.models import ReconciliationReportRow, ReconciliationReview

router = APIRouter(prefix="/api/v1/operator/reconciliations", tags=["reconciliation"])


class ReportRow(BaseModel):
    """One day's counts: what an operator scans before opening a report."""

    bill_date: date
    clean: bool
    workflow_id: str
    bill_payments: int
    bill_payment_fen: int
    missed_callbacks: int
    orphan_payments: int
    amount_mismatches: int
    stuck_refunds: int
    missing_from_bill: int
    updated_at: LocalDateTime


class ReportOut(ReportRow):
    """The full report: every finding and what was done about it (ids and fen only)."""

    report: dict[str, Any]


class RunOut(BaseModel):
    bill_date: date
    workflow_id: str
    run_id: str | None


def _row(r: ReconciliationReportRow) -> dict[str, Any]:
    return {
        "bill_date": r.bill_date,
        "clean": r.clean,
        "workflow_id": r.workflow_id,
        "bill_payments": r.bill_payments,
        "bill_payment_fen": r.bill_payment_fen,
        "missed_callbacks": r.missed_callbacks,
        "orphan_payments": r.orphan_payments,
        "amount_mismatches": r.amount_mismatches,
        "stuck_refunds": r.stuck_refunds,
        "missing_from_bill": r.missing_from_bill,
        "updated_at": r.updated_at,
    }


@router.get("", response_model=list[ReportRow], responses=errors(*OPERATOR, VALIDATION))
async def list_reports(
    state: State,
    actor: Operator,
    bill_date: Annotated[date | None, Query(alias="date")] = None,
    findings_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=366)] = 30,
) -> list[ReportRow]:
    """Newest bill date first; `date` picks one day, `findings_only` hides clean days."""
    rows = await reports.list_reports(state, bill_date, findings_only, limit)
    return [ReportRow(**_row(r)) for r in rows]


@router.get(
    "/{bill_date}",
    response_model=ReportOut,
    responses=errors(*OPERATOR, VALIDATION, (404, "REPORT_NOT_FOUND")),
)
async def get_report(bill_date: date, state: State, actor: Operator) -> ReportOut:
    row, report = await reports.get_report(state, bill_date)
    return ReportOut(**_row(row), report=report)


@router.post(
    "/{bill_date}/run",
    status_code=202,
    response_model=RunOut,
    responses=errors(*OPERATOR, VALIDATION, (422, "BILL_DATE_OUT_OF_RANGE")),
)
async def run_now(bill_date: date, state: State, actor: Operator) -> RunOut:
    """Start reconciling that day now; while a run of that day is going, its handle is returned."""
    wid, run_id = await reports.run_now(state, actor, bill_date)
    return RunOut(bill_date=bill_date, workflow_id=wid, run_id=run_id)


# ---- the review queue of paid orders storage does not hold -------------------------------------

reviews_router = APIRouter(
    prefix="/api/v1/operator/reconciliation-reviews", tags=["reconciliation"]
)


class ReviewOut(BaseModel):
    """A paid order reconciliation could not match to ours: ids, money and the decision."""

    out_trade_no: str
    transaction_id: str | None
    amount_fen: int
    trade_time: LocalDateTime
    bill_date: date
    reason: str
    status: str
    out_refund_no: str | None
    refund_status: str | None
    decided_by: str | None
    note: str | None
    decided_at: LocalDateTime | None


class ReviewDecisionIn(BaseModel):
    action: ReviewDecision
    note: str = Field(min_length=1, max_length=500)


def _review(r: ReconciliationReview) -> ReviewOut:
    return ReviewOut.model_validate(r, from_attributes=True)


@reviews_router.get(
    "",
    response_model=list[ReviewOut],
    responses=errors(*OPERATOR, VALIDATION, (422, "REVIEW_STATUS_UNKNOWN")),
)
async def list_reviews(
    state: State,
    actor: Operator,
    status: str | None = "OPEN",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ReviewOut]:
    """The queue (OPEN by default), oldest payment first."""
    return [_review(r) for r in await reviews.list_reviews(state, status or None, limit)]


@reviews_router.post(
    "/{out_trade_no}/resolve",
    response_model=ReviewOut,
    responses=errors(
        *OPERATOR, VALIDATION, (404, "REVIEW_NOT_FOUND"), (409, "REVIEW_ALREADY_DECIDED")
    ),
)
async def resolve_review(
    out_trade_no: str, body: ReviewDecisionIn, state: State, actor: Operator
) -> ReviewOut:
    """Refund (by a reconciliation run of its bill date) or dismiss, as the operator decides."""
    row = await reviews.resolve_review(state, actor, out_trade_no, body.action, body.note)
    return _review(row)
