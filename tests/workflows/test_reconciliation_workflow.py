"""Daily reconciliation on the time-skipping server: a lost callback and orphan payments healed."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.reconciliation import ReconciliationActivities
from adapters.payments.interface import CreateOrder
from adapters.payments.wechatpay.states import TradeState
from domain.order_numbers import payment_order_no
from domain.payments import RefundState
from domain.reconciliation import ReconciliationReport
from domain.reconciliation_messages import ReconciliationInput, ReconciliationSummary
from domain.vocabulary import Channel, ContributionStatus
from simulators.store import orders
from storage import reconciliation as repo
from tests.support import clear_summary, current_details, without_key
from tests.workflows.conftest import Stack, make_stack
from workflows.contract import ContributionView, PaymentOrder, Timings
from workflows.contribution import ContributionWorkflow
from workflows.reconciliation import ReconciliationWorkflow, yesterday_in_shanghai

S = ContributionStatus
SHANGHAI = ZoneInfo("Asia/Shanghai")
# No poll before the window ends: only a callback (or reconciliation) can report the payment.
NO_POLLING = Timings(payment_window_s=2 * 24 * 3600, payment_poll_interval_s=3 * 24 * 3600)


async def _to_ten_in_the_morning(env: WorkflowEnvironment) -> date:
    """Skip to the next 10:00 Shanghai, so every payment of the test falls on one bill date."""
    now = await env.get_current_time()
    target = datetime.combine(now.astimezone(SHANGHAI).date(), datetime.min.time(), SHANGHAI)
    target += timedelta(days=1, hours=10)
    await env.sleep(target - now)
    return target.date()


async def _scheduled_activities(handle: WorkflowHandle[Any, Any]) -> list[str]:
    history = await handle.fetch_history()
    return [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]


async def _status_once_settled(
    handle: WorkflowHandle[Any, Any], wanted: ContributionStatus
) -> ContributionView:
    """The status query, asked until the wanted status shows (a few activities run first)."""
    for _ in range(400):
        view: ContributionView = await handle.query(ContributionWorkflow.status)
        if view.status == wanted:
            break
        await asyncio.sleep(0.025)
    return view


async def _reconcile(stack: Stack, bill_date: date) -> ReconciliationSummary:
    task_queue = f"rq-{uuid.uuid4().hex[:8]}"
    activities = ReconciliationActivities(stack.sessions, stack.systems.adapters.payments)
    async with Worker(
        stack.env.client,
        task_queue=task_queue,
        workflows=[ReconciliationWorkflow],
        activities=activities.all(),
        workflow_failure_exception_types=[Exception],
    ):
        result: ReconciliationSummary = await stack.env.client.execute_workflow(
            ReconciliationWorkflow.run,
            ReconciliationInput(bill_date=bill_date),
            id=f"reconciliation-{bill_date.isoformat()}-{uuid.uuid4().hex[:6]}",
            task_queue=task_queue,
        )
    return result


async def _paid_after_close(stack: Stack, out_trade_no: str, at: datetime) -> None:
    """The channel reports a payment for an order we closed (payers who kept the cashier open
    have paid after expiry): written into the simulator's state, as the channel would show it."""
    async with stack.systems.simulators.engine.begin() as conn:
        await conn.execute(
            update(orders)
            .where(orders.c.out_trade_no == out_trade_no)
            .values(
                trade_state=TradeState.SUCCESS.value,
                transaction_id="4200000000000000000000000001",
                payer_total_fen=orders.c.amount_fen,
                success_time=at,
                bank_type="OTHERS",
            )
        )


async def test_reconciliation_heals_a_lost_callback_refunds_ended_ones_and_queues_unknown_ones(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    bill_date = await _to_ten_in_the_morning(time_skipping_env)
    async with make_stack(time_skipping_env, tmp_path, sim_lost_callback_rate=1.0) as stack:
        sim = stack.systems.simulators.payments
        assert sim is not None
        # 1. A contribution that expired, whose order the channel nevertheless shows as paid.
        ended_inp = await stack.contribution(timings=Timings(payment_window_s=120))
        ended = await stack.start(ended_inp)
        ended_order: PaymentOrder = await ended.execute_update(ContributionWorkflow.payment_details)
        # Skip past the window rather than await the result: once nothing is left to run, the
        # test server may leap years ahead, and this test needs one bill date.
        await stack.env.sleep(timedelta(seconds=130))
        ended_view = await _status_once_settled(ended, S.EXPIRED)
        assert ended_view.status == S.EXPIRED
        await _paid_after_close(stack, ended_order.out_trade_no, await stack.now())

        # 2. A payment at the cashier whose callback is lost (the month was released above).
        inp = await stack.contribution(timings=NO_POLLING)
        handle = await stack.start(inp)
        order: PaymentOrder = await handle.execute_update(ContributionWorkflow.payment_details)
        await stack.pay(order.out_trade_no)
        assert [n.lost for n in await sim.notifications_for(order.out_trade_no)] == [True]
        view: ContributionView = await handle.query(ContributionWorkflow.status)
        assert view.status == S.AWAITING_PAYMENT

        # 3. An order another system on the merchant account created, and one of ours that
        # storage lost (a restore from backup): both paid, neither known to storage.
        now = await stack.now()
        stray = "ZZ" + uuid.uuid4().hex[:20]
        lost = payment_order_no(uuid.uuid4().hex[:24])
        for no, fen in ((stray, 4321), (lost, 1234)):
            await sim.create_order(
                CreateOrder(
                    out_trade_no=no,
                    description="not in storage",
                    amount_fen=fen,
                    time_expire=now + timedelta(hours=1),
                    channel=Channel.WECHAT_BALANCE,
                    notify_url="http://127.0.0.1:8000/api/v1/payments/wechatpay/notify",
                )
            )
            await sim.pay(no, "success", at=now)

        summary = await _reconcile(stack, bill_date)

        assert (summary.missed_callbacks, summary.signalled) == (1, 1)
        assert (summary.orphan_payments, summary.refunds_requested) == (1, 1)
        assert summary.unknown_orders == 2
        assert summary.bill_payments == 4
        assert summary.bill_payment_fen == inp.total_fen + ended_inp.total_fen + 4321 + 1234
        # The lost callback is healed: the contribution goes all the way, without polling (the
        # one query confirms the relayed notice with the channel).
        result: ContributionView = await handle.result()
        assert result.status == S.COMPLETED
        scheduled = await _scheduled_activities(handle)
        assert scheduled.count("query_payment") == 1 and "close_payment_order" not in scheduled
        # The ended contribution's payment is refunded in full under its fixed number; the
        # orders storage does not hold are not refunded but queued for an operator.
        refunds = (await sim.order(ended_order.out_trade_no)).refunds
        assert [(r.out_refund_no, r.amount_fen) for r in refunds] == [
            (f"RC{ended_order.out_trade_no}", ended_inp.total_fen)
        ]
        for no in (stray, lost):
            assert (await sim.order(no)).refunds == []
        async with stack.sessions() as session:
            queued = await repo.list_reviews(session)
        assert {(q.out_trade_no, q.reason, q.status) for q in queued} == {
            (stray, "FOREIGN_ORDER", "OPEN"),
            (lost, "OUR_ORDER_NOT_STORED", "OPEN"),
        }
        # The report is stored, with each action.
        async with stack.sessions() as session:
            row = await repo.get_report(session, bill_date)
        assert row is not None and not row.clean
        report = ReconciliationReport.model_validate(row.report)
        assert {(o.out_trade_no, o.reason) for o in report.orphan_payments} == {
            (ended_order.out_trade_no, "CONTRIBUTION_ENDED"),
        }
        assert {u.out_trade_no for u in report.unknown_orders} == {stray, lost}
        assert [(a.kind, a.out_trade_no, a.outcome) for a in report.actions] == [
            ("signal", order.out_trade_no, "SIGNALLED"),
            ("refund", ended_order.out_trade_no, RefundState.PROCESSING.value),
        ]

        # An operator decides the foreign one is to be refunded: the next run refunds it, once.
        async with stack.sessions.begin() as session:
            entry = await repo.review_for_update(session, stray)
            assert entry is not None
            await repo.decide_review(
                session, entry, status=repo.REVIEW_REFUND_APPROVED, actor="op", note="ok", at=now
            )
        again = await _reconcile(stack, bill_date)
        assert (again.missed_callbacks, again.orphan_payments, again.unknown_orders) == (0, 1, 2)
        assert [r.out_refund_no for r in (await sim.order(stray)).refunds] == [f"RC{stray}"]
        assert (await sim.order(lost)).refunds == []
        assert len((await sim.order(ended_order.out_trade_no)).refunds) == 1
        async with stack.sessions() as session:
            decided = await repo.list_reviews(session, status=None)
        assert {(q.out_trade_no, q.status) for q in decided} == {
            (stray, "REFUNDED"),
            (lost, "OPEN"),
        }
        await _reconcile(stack, bill_date)
        assert len((await sim.order(stray)).refunds) == 1


async def test_without_a_date_the_run_reconciles_yesterday_in_shanghai(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    today = await _to_ten_in_the_morning(time_skipping_env)
    async with make_stack(time_skipping_env, tmp_path) as stack:
        task_queue = f"rq-{uuid.uuid4().hex[:8]}"
        run_id = f"reconciliation-{uuid.uuid4().hex[:6]}"
        async with Worker(
            stack.env.client,
            task_queue=task_queue,
            workflows=[ReconciliationWorkflow],
            activities=ReconciliationActivities(
                stack.sessions, stack.systems.adapters.payments
            ).all(),
        ):
            summary: ReconciliationSummary = await stack.env.client.execute_workflow(
                ReconciliationWorkflow.run,
                ReconciliationInput(),
                id=run_id,
                task_queue=task_queue,
            )
            details = await current_details(stack.env.client, run_id)  # a worker answers
    assert summary.bill_date == today - timedelta(days=1)
    assert summary.bill_payments == 0 and summary.orphan_payments == 0
    # What operators read in Temporal UI without the codec key: each step, the bill date.
    history = await without_key(stack.env.client).get_workflow_handle(run_id).fetch_history()
    assert [
        clear_summary(e.user_metadata.summary)
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ] == ["fetch the channel's trade bill", "load our payments and refunds", "store the report"]
    assert details == f"bill date {summary.bill_date.isoformat()}\n\nstore the report"


def test_yesterday_is_taken_in_shanghai_not_utc() -> None:
    # 2026-11-27 23:30 UTC is already 28 November 07:30 in Shanghai.
    late_utc = datetime(2026, 11, 27, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert yesterday_in_shanghai(late_utc) == date(2026, 11, 27)
