"""Daily reconciliation (对账) for operators: the stored reports, and a run started now."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError

from domain.reconciliation_messages import ReconciliationInput
from services.context import AppState
from services.errors import ServiceError, unavailable
from services.timefmt import local_iso, utc_now
from storage import audit
from storage import reconciliation as repo
from storage.models import ReconciliationReportRow
from workflows.contract import reconciliation_workflow_id
from workflows.reconciliation import ReconciliationWorkflow

# Bill dates before this are not WeChat Pay v3 bills we could have (and catch typos like 0001).
_EARLIEST = date(2020, 1, 1)


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


async def list_reports(
    state: AppState, bill_date: date | None, findings_only: bool, limit: int
) -> Sequence[ReconciliationReportRow]:
    """Newest bill date first; `bill_date` picks one day, `findings_only` hides clean days."""
    async with state.sessions() as db:
        return await repo.list_reports(
            db, bill_date=bill_date, only_with_findings=findings_only, limit=limit
        )


async def get_report(state: AppState, bill_date: date) -> tuple[ReconciliationReportRow, Any]:
    """One day's row and its full report with times in +08:00; 404 before the day's run."""
    async with state.sessions() as db:
        row = await repo.get_report(db, bill_date)
    if row is None:
        raise ServiceError(404, "REPORT_NOT_FOUND", "该日期尚无对账报告", "date")
    return row, _localise(row.report)


async def run_now(state: AppState, actor: str, bill_date: date) -> tuple[str, str | None]:
    """Start reconciling that day now (audited); while a run of that day is going, its handle.

    Returns the workflow id and the run id.
    """
    if not _EARLIEST <= bill_date < state.today():
        # Today's bill does not exist until tomorrow: only past days can be reconciled.
        raise ServiceError(422, "BILL_DATE_OUT_OF_RANGE", "对账日期须为今天之前的日期", "date")
    client = await state.temporal.client()
    wid = reconciliation_workflow_id(bill_date)
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
    return wid, handle.result_run_id
