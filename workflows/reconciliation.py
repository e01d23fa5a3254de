"""ReconciliationWorkflow: a day's bill against our books; heal what can be healed, report all."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.localtime import shanghai_date
    from domain.reconciliation import (
        HealingAction,
        ReconciliationReport,
        approved_orphans,
        reconcile,
    )
    from domain.reconciliation_messages import (
        BillFetched,
        OurSide,
        OurSideRequest,
        ReconciliationInput,
        ReconciliationSummary,
        StoreReport,
    )
    from workflows.cleartext import ClearText
    from workflows.contract import ReconciliationSteps as A
    from workflows.contract import Step

In = TypeVar("In")
Out = TypeVar("Out")

STEP_TIMEOUT = timedelta(seconds=60)
STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)
# The bill is ready after 10:00 the next day; if it is late, keep asking for a few hours.
BILL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=30),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=15),
    maximum_attempts=20,
)
# Non-retryable errors are named by no policy here: see STEP_RETRY in workflows/contribution.py.


def yesterday_in_shanghai(now: datetime) -> date:
    """The bill date a run at `now` reconciles when none is given."""
    return shanghai_date(now) - timedelta(days=1)


@workflow.defn
class ReconciliationWorkflow:
    """Fetch the bill → load our side → compare → signal missed callbacks → refund orphans."""

    def __init__(self) -> None:
        self._bill_date: date | None = None

    @workflow.run
    async def run(self, inp: ReconciliationInput) -> ReconciliationSummary:
        now = workflow.now()
        bill_date = inp.bill_date or yesterday_in_shanghai(now)
        self._bill_date = bill_date

        bill: BillFetched = await self._step(
            A.FETCH_BILL, bill_date, summary="fetch the channel's trade bill", retry=BILL_RETRY
        )
        stuck_after = timedelta(seconds=inp.stuck_refund_after_s)
        ours: OurSide = await self._step(
            A.LOAD_OUR_SIDE,
            OurSideRequest(
                bill_date=bill_date,
                out_trade_nos=sorted({e.out_trade_no for e in bill.entries}),
                stuck_before=now - stuck_after,
            ),
            summary="load our payments and refunds",
        )
        report = reconcile(
            bill_date,
            bill.entries,
            ours.payments,
            ours.refunds,
            as_of=now,
            stuck_after=stuck_after,
        )

        actions: list[HealingAction] = []
        for missed in report.missed_callbacks:
            actions.append(
                await self._step(
                    A.SIGNAL_MISSED_CALLBACK,
                    missed,
                    summary="signal a contribution whose callback never came",
                )
            )
        # Orders storage does not hold are refunded only once an operator said so.
        for orphan in [*report.orphan_payments, *approved_orphans(report, ours.approved_refunds)]:
            actions.append(
                await self._step(
                    A.REFUND_ORPHAN,
                    orphan,
                    summary="refund a payment no contribution keeps",
                )
            )
        totals = report.totals.model_copy(update={"unknown_lines": bill.unknown_lines})
        report = report.model_copy(update={"actions": actions, "totals": totals})
        await self._step(
            A.STORE_REPORT,
            StoreReport(report=report, workflow_id=workflow.info().workflow_id),
            summary="store the report",
        )
        return _summary(report)

    async def _step(
        self, step: Step[In, Out], arg: In, *, summary: str, retry: RetryPolicy = STEP_RETRY
    ) -> Out:
        # Operator text, readable in Temporal UI without the codec key: a date and a step.
        text = ClearText(summary)
        workflow.set_current_details(ClearText(f"bill date {self._bill_date}\n\n{text}"))
        result: Out = await workflow.execute_activity(
            step.name,
            arg,
            result_type=step.result_type,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=retry,
            summary=text,
        )
        return result


def _summary(report: ReconciliationReport) -> ReconciliationSummary:
    return ReconciliationSummary(
        bill_date=report.bill_date,
        bill_payments=report.totals.bill_payments,
        bill_payment_fen=report.totals.bill_payment_fen,
        missed_callbacks=len(report.missed_callbacks),
        orphan_payments=len(report.orphan_payments),
        unknown_orders=len(report.unknown_orders),
        amount_mismatches=len(report.amount_mismatches),
        stuck_refunds=len(report.stuck_refunds),
        missing_from_bill=len(report.missing_from_bill),
        signalled=sum(a.kind == "signal" and a.outcome == "SIGNALLED" for a in report.actions),
        refunds_requested=sum(
            a.kind == "refund" and a.outcome != "REFUSED" for a in report.actions
        ),
    )
