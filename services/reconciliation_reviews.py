"""The operators' queue of paid orders reconciliation found but storage does not hold.

Reconciliation never refunds such an order itself: it may belong to another system on a shared
merchant account, or be ours but lost in a restore from backup (its money then posted). An
operator looks and decides: dismiss it, or have it refunded by a reconciliation run of its
bill date (started here), which refunds in full under a fixed refund number.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from services.context import AppState
from services.errors import ServiceError
from services.reconciliation_reports import run_now
from services.timefmt import utc_now
from storage import audit
from storage import reconciliation as repo
from storage.models import ReconciliationReview


class ReviewDecision(StrEnum):
    """What an operator may decide for an unknown paid order."""

    REFUND = "refund"
    DISMISS = "dismiss"


async def list_reviews(
    state: AppState, status: str | None, limit: int
) -> Sequence[ReconciliationReview]:
    """The queue, oldest payment first; `status` None lists every decision too."""
    if status is not None and status not in repo.REVIEW_STATUSES:
        raise ServiceError(422, "REVIEW_STATUS_UNKNOWN", "复核状态不正确", "status")
    async with state.sessions() as db:
        return await repo.list_reviews(db, status=status, limit=limit)


async def resolve_review(
    state: AppState, actor: str, out_trade_no: str, decision: ReviewDecision, note: str
) -> ReconciliationReview:
    """Record the operator's decision (audited); a refund is made by a run of the bill date."""
    at = utc_now()
    status = (
        repo.REVIEW_REFUND_APPROVED
        if decision == ReviewDecision.REFUND
        else (repo.REVIEW_DISMISSED)
    )
    async with state.sessions.begin() as db:
        row = await repo.review_for_update(db, out_trade_no)
        if row is None:
            raise ServiceError(404, "REVIEW_NOT_FOUND", "没有该笔待复核订单", "out_trade_no")
        if row.status != repo.REVIEW_OPEN:
            raise ServiceError(409, "REVIEW_ALREADY_DECIDED", "该笔订单已处理", None)
        await repo.decide_review(db, row, status=status, actor=actor, note=note, at=at)
        await audit.audit(
            db,
            actor=actor,
            action=f"reconciliation.review.{decision.value}",
            subject=f"payment:{out_trade_no}",
            detail={"amount_fen": row.amount_fen, "reason": row.reason},
            at=at,
        )
        bill_date = row.bill_date
    if decision == ReviewDecision.REFUND:
        # The worker holds the channel: a run of that day refunds what was approved.
        await run_now(state, actor, bill_date)
    async with state.sessions() as db:
        decided = await repo.review_for_update(db, out_trade_no)
    assert decided is not None
    return decided
