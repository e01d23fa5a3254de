"""The contribution lifecycle on the time-skipping server: every state and exit of the workflow."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from domain.months import Month
from domain.payments import RefundState
from domain.vocabulary import ContributionStatus, Insurance, RejectReason
from storage import contributions, payments, policies, refunds
from storage.policy_book import load_policy_book
from tests.support import steps_run
from tests.workflows.conftest import Stack, keep_history, make_stack
from workflows.contract import (
    CancelRequest,
    ContributionView,
    PaymentOrder,
    ResolveReview,
    ReviewAction,
    workflow_id,
)
from workflows.contribution import ContributionWorkflow

S = ContributionStatus
SHANGHAI = ZoneInfo("Asia/Shanghai")


async def order_of(handle: WorkflowHandle) -> PaymentOrder:  # type: ignore[type-arg]
    return await handle.execute_update(ContributionWorkflow.payment_details)


async def view(handle: WorkflowHandle) -> ContributionView:  # type: ignore[type-arg]
    return await handle.query(ContributionWorkflow.status)


def statuses(v: ContributionView) -> list[ContributionStatus]:
    return [entry.status for entry in v.timeline]


async def held(stack: Stack) -> dict[str, tuple[str, ContributionStatus]]:
    async with stack.sessions() as session:
        return await contributions.held_months(session, stack.person_id, Insurance.PENSION)


async def test_happy_path_reaches_completed_after_treasury_wait_across_a_public_holiday(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    env = time_skipping_env
    # Move the test server's clock to 30 December: three business days after it span New Year.
    now = await env.get_current_time()
    year = now.astimezone(SHANGHAI).year
    target = datetime(year, 12, 30, 10, 0, tzinfo=SHANGHAI)
    if now >= target:
        target = target.replace(year=year + 1)
    await env.sleep(target - now)
    async with make_stack(env, tmp_path) as stack:
        inp = await stack.contribution()
        assert inp.months == [f"{target.year}-12"]
        handle = await stack.start(inp)
        order = await order_of(handle)
        await stack.pay(order.out_trade_no)
        assert await stack.deliver_callbacks(handle) == 1

        result: ContributionView = await handle.result()

        await keep_history(handle, "completed_across_new_year")
        assert result.status == S.COMPLETED
        assert statuses(result) == [
            S.VERIFYING,
            S.AWAITING_PAYMENT,
            S.PAID,
            S.POSTING,
            S.POSTED,
            S.IN_TREASURY,
            S.COMPLETED,
        ]
        # 31 Dec is a business day; 1 Jan is a holiday and 2–3 Jan a weekend (in 2026→2027).
        assert result.expected_treasury_date is not None
        assert result.expected_treasury_date >= date(target.year + 1, 1, 4)
        assert result.treasury_date == result.expected_treasury_date
        assert result.certificate_ready
        async with stack.sessions() as session:
            row = await contributions.get_contribution(session, inp.contribution_id)
            assert row is not None and row.status == S.COMPLETED
            payment = await payments.get_payment(session, order.out_trade_no)
            assert payment is not None and payment.provider_state == "SUCCESS"
        assert (await held(stack))[inp.months[0]][0] == inp.contribution_id
        # Priced once, by the verdict, with the policy book it checked the months against.
        steps = steps_run(await handle.fetch_history())
        assert steps[:2] == ["verify_and_reserve", "create_payment_order"]
        assert "assess" not in steps


async def test_never_paid_expires_closes_the_order_and_releases_the_months(stack: Stack) -> None:
    inp = await stack.contribution()
    handle = await stack.start(inp)
    order = await order_of(handle)
    assert await held(stack)

    result: ContributionView = await handle.result()

    await keep_history(handle, "expired")
    assert result.status == S.EXPIRED
    assert await held(stack) == {}
    sim = stack.systems.simulators.payments
    assert sim is not None
    assert (await sim.query_order(order.out_trade_no)).provider_state == "CLOSED"


async def test_paid_in_the_last_second_before_close_continues_to_completed(stack: Stack) -> None:
    inp = await stack.contribution()
    handle = await stack.start(inp)
    order = await order_of(handle)
    # No callback at all: only the close-then-query at expiry can find this payment.
    await stack.env.sleep(order.expires_at - await stack.now() - timedelta(seconds=1))
    await stack.pay(order.out_trade_no)

    result: ContributionView = await handle.result()

    assert result.status == S.COMPLETED
    assert result.payment is not None and result.payment.transaction_id


async def test_lost_callback_is_recovered_by_polling(stack: Stack) -> None:
    inp = await stack.contribution()
    handle = await stack.start(inp)
    order = await order_of(handle)
    await stack.pay(order.out_trade_no)  # the callback never arrives

    result: ContributionView = await handle.result()

    assert result.status == S.COMPLETED
    history = await handle.fetch_history()
    steps = steps_run(history)
    assert "query_payment" in steps
    assert "close_payment_order" not in steps


async def test_duplicate_callback_has_no_effect(stack: Stack) -> None:
    inp = await stack.contribution()
    handle = await stack.start(inp)
    order = await order_of(handle)
    await stack.pay(order.out_trade_no)
    sim = stack.systems.simulators.payments
    assert sim is not None
    notes = await sim.pending_notifications()
    for n in notes + notes:  # the same event twice
        await stack.deliver_callbacks(handle)
        await handle.signal(
            ContributionWorkflow.payment_notified,
            __import__("workflows.contract", fromlist=["PaymentNotice"]).PaymentNotice(
                event_id=n.event_id,
                out_trade_no=n.out_trade_no,
                state=n.state,
                provider_state=n.provider_state,
                transaction_id=n.transaction_id,
                amount_fen=n.amount_fen,
                success_time=n.success_time,
            ),
        )

    result: ContributionView = await handle.result()

    assert result.status == S.COMPLETED
    assert statuses(result).count(S.PAID) == 1
    history = await handle.fetch_history()
    assert steps_run(history).count("record_payment") == 1


async def test_posting_failure_refunds_through_original_channel(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with make_stack(time_skipping_env, tmp_path, sim_posting_failure_rate=1.0) as stack:
        inp = await stack.contribution()
        handle = await stack.start(inp)
        order = await order_of(handle)
        await stack.pay(order.out_trade_no)
        await stack.deliver_callbacks(handle)

        result: ContributionView = await handle.result()

        assert result.status == S.REFUNDED
        assert S.REFUNDING in statuses(result)
        assert result.refund is not None and result.refund.status == RefundState.SUCCESS
        assert result.refund.amount_fen == inp.total_fen
        async with stack.sessions() as session:
            rows = await refunds.refunds_for(session, inp.contribution_id)
        assert [r.out_trade_no for r in rows] == [order.out_trade_no]
        # The months are free again: the payer can pay them once more.
        assert await held(stack) == {}


async def test_closed_refund_goes_to_manual_review_and_an_operator_resolves_it(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with make_stack(time_skipping_env, tmp_path, sim_posting_failure_rate=1.0) as stack:
        inp = await stack.contribution()
        handle = await stack.in_manual_review(inp)
        current = await view(handle)
        assert current.status == S.MANUAL_REVIEW
        assert current.review_reason
        async with stack.sessions() as session:
            row = await contributions.get_contribution(session, inp.contribution_id)
            assert row is not None and row.status == S.MANUAL_REVIEW

        with pytest.raises(WorkflowUpdateFailedError):  # a decision needs a note
            await handle.execute_update(
                ContributionWorkflow.resolve_review,
                ResolveReview(action=ReviewAction.RETRY_REFUND, note="  "),
            )
        resolved = await handle.execute_update(
            ContributionWorkflow.resolve_review,
            ResolveReview(
                action=ReviewAction.MARK_REFUNDED, note="refunded by bank transfer, ticket 42"
            ),
        )
        assert resolved.status == S.REFUNDED
        result: ContributionView = await handle.result()
        await keep_history(handle, "refund_closed_manual_review_resolved")
        assert result.status == S.REFUNDED
        assert await held(stack) == {}


async def test_cancel_before_payment_closes_order_and_releases_months(stack: Stack) -> None:
    inp = await stack.contribution()
    handle = await stack.start(inp)
    order = await order_of(handle)

    cancelled = await handle.execute_update(ContributionWorkflow.cancel, CancelRequest())

    assert cancelled.status == S.CANCELLED
    result: ContributionView = await handle.result()
    await keep_history(handle, "cancelled")
    assert result.status == S.CANCELLED
    assert await held(stack) == {}
    sim = stack.systems.simulators.payments
    assert sim is not None
    assert (await sim.query_order(order.out_trade_no)).provider_state == "CLOSED"


async def test_cancel_after_payment_is_refused(stack: Stack) -> None:
    inp = await stack.contribution()
    handle = await stack.start(inp)
    order = await order_of(handle)
    await stack.pay(order.out_trade_no)
    await stack.deliver_callbacks(handle)

    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(ContributionWorkflow.cancel, CancelRequest())
    assert (await handle.result()).status == S.COMPLETED


async def test_back_payment_of_arrears_this_year(stack: Stack) -> None:
    today = await stack.today()
    this_month = Month.from_date(today)
    if this_month.month == 1:
        pytest.skip("in January there are no earlier months of this year to back-pay")
    arrears = (
        [str(this_month.add(-2)), str(this_month.add(-1))]
        if this_month.month > 2
        else [str(this_month.add(-1))]
    )
    inp = await stack.contribution(arrears, grade=100, back_payment=True)
    assert inp.total_fen == len(arrears) * inp.lines[0].amount_fen
    handle = await stack.start(inp)
    order = await order_of(handle)
    await stack.pay(order.out_trade_no)
    await stack.deliver_callbacks(handle)

    result: ContributionView = await handle.result()

    assert result.status == S.COMPLETED
    assert result.months == arrears
    assert set(await held(stack)) == set(arrears)


async def test_a_month_in_flight_rejects_a_second_contribution(stack: Stack) -> None:
    first = await stack.start(await stack.contribution())
    await order_of(first)
    second_input = await stack.contribution()
    second = await stack.start(second_input)

    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await order_of(second)

    assert RejectReason.MONTH_IN_FLIGHT.value in str(failure.value.cause)
    result: ContributionView = await second.result()
    assert result.status == S.REJECTED
    assert result.holder_contribution_id == first.id.removeprefix(workflow_id(""))


async def test_back_payment_with_interest_on_the_1st_before_8am_is_priced_as_quoted(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """From 00:00 to 08:00 on the 1st the UTC date is still last month: interest must not be."""
    env = time_skipping_env
    now = await env.get_current_time()
    local = now.astimezone(SHANGHAI)
    first = Month.from_date(local.date()).add(1)
    target = datetime(first.year, first.month, 1, 1, 0, tzinfo=SHANGHAI)
    await env.sleep(target - now)
    async with make_stack(env, tmp_path) as stack:
        # Last year's months may be back-paid, with interest for every month late.
        last_year = first.year - 1
        async with stack.sessions.begin() as session:
            book = await load_policy_book(session)
            doc = (
                book.for_year(last_year)
                .model_copy(
                    update={
                        "back_payment_prior_years_allowed": True,
                        "interest_rate_per_annum": Decimal("0.05"),
                    }
                )
                .model_dump(mode="json")
            )
            await policies.put_policy_document(session, last_year, doc, True, "tests")
        # Priced as the API quotes: on today's Asia/Shanghai date (the 1st).
        inp = await stack.contribution([f"{last_year}-06"], back_payment=True)
        assert inp.lines[0].interest_fen > 0
        handle = await stack.start(inp)
        order = await order_of(handle)  # a QUOTE_CHANGED rejection fails here
        assert order.out_trade_no
        cancelled = await handle.execute_update(ContributionWorkflow.cancel, CancelRequest())
        assert cancelled.status == S.CANCELLED
