"""Operator side of daily reconciliation (对账): read the stored reports, start a run now."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError

from api.auth import Operator
from api.state import State
from domain.reconciliation_messages import ReconciliationInput
from services.errors import ServiceError, unavailable
from services.timefmt import LocalDateTime, local_iso, utc_now
from storage import audit
from storage import reconciliation as repo
from storage.models import ReconciliationReportRow
from workflows.reconciliation import ReconciliationWorkflow

router = APIRouter(prefix="/api/v1/operator/reconciliations", tags=["operator"])

# Bill dates before this are not WeChat Pay v3 bills we could have (and catch typos like 0001).
_EARLIEST = date(2020, 1, 1)


def run_workflow_id(bill_date: date) -> str:
    """`reconciliation-<date>`: one run per date at a time; a finished one may run again."""
    return f"reconciliation-{bill_date.isoformat()}"


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


def _localise(value: Any) -> Any:
    """Times of the stored report (ISO UTC) shown in +08:00, like every other response."""
    if isinstance(value, dict):
        return {k: _localise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_localise(v) for v in value]
    if isinstance(value, str) and len(value) > 10 and value[10:11] == "T":
        try:
            return local_iso(datetime.fromisoformat(value))
        except ValueError:
            return value
    return value


def _checked(bill_date: date, today: date) -> date:
    if not _EARLIEST <= bill_date < today:
        # Today's bill does not exist until tomorrow: only past days can be reconciled.
        raise ServiceError(422, "BILL_DATE_OUT_OF_RANGE", "对账日期须为今天之前的日期", "date")
    return bill_date


@router.get("", response_model=list[ReportRow])
async def list_reports(
    state: State,
    actor: Operator,
    bill_date: Annotated[date | None, Query(alias="date")] = None,
    findings_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=366)] = 30,
) -> list[ReportRow]:
    """Newest bill date first; `date` picks one day, `findings_only` hides clean days."""
    async with state.sessions() as db:
        rows = await repo.list_reports(
            db, bill_date=bill_date, only_with_findings=findings_only, limit=limit
        )
    return [ReportRow(**_row(r)) for r in rows]


@router.get("/{bill_date}", response_model=ReportOut)
async def get_report(bill_date: date, state: State, actor: Operator) -> ReportOut:
    async with state.sessions() as db:
        row = await repo.get_report(db, bill_date)
    if row is None:
        raise ServiceError(404, "REPORT_NOT_FOUND", "该日期尚无对账报告", "date")
    return ReportOut(**_row(row), report=_localise(row.report))


@router.post("/{bill_date}/run", status_code=202, response_model=RunOut)
async def run_now(bill_date: date, state: State, actor: Operator) -> RunOut:
    """Start reconciling that day now; while a run of that day is going, its handle is returned."""
    _checked(bill_date, state.today())
    client = await state.temporal.client()
    wid = run_workflow_id(bill_date)
    try:
        handle = await client.start_workflow(
            ReconciliationWorkflow.run,
            ReconciliationInput(bill_date=bill_date),
            id=wid,
            task_queue=state.settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    except RPCError:
        raise unavailable() from None
    async with state.sessions.begin() as db:
        await audit.audit(
            db,
            actor=actor,
            action="reconciliation.run",
            subject=f"reconciliation:{bill_date.isoformat()}",
            detail={"workflow_id": wid},
            at=utc_now(),
        )
    return RunOut(bill_date=bill_date, workflow_id=wid, run_id=handle.result_run_id)
