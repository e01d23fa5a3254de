"""The workflow's policies with scripted steps: no database, no simulators, time skipped.

Each test says what the outside world answers (FakeSteps) and checks what the workflow decides
and what storage would hold. The integration tests beside these (test_contribution_workflow.py)
run the same lifecycles through the real activities.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.payments import PaymentState, RefundState
from domain.vocabulary import ContributionStatus, PostingState, RejectReason
from tests.workflows.fake_steps import FakeSteps, Policies, contribution_input, policies
from workflows.contract import CancelRequest, ContributionView, ResolveReview, ReviewAction
from workflows.contract import ContributionSteps as Steps
from workflows.contribution import REFUND_UNSETTLED_ATTEMPTS, ContributionWorkflow

S = ContributionStatus


async def _run(env: WorkflowEnvironment, steps: FakeSteps) -> tuple[Policies, ContributionView]:
    """Start, pay, and let the workflow run to its end."""
    async with policies(env, steps) as p:
        handle = await p.start()
        await p.pay(handle)
        return p, await handle.result()


async def test_a_paid_contribution_is_posted_reaches_the_treasury_and_completes(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    steps = FakeSteps(posting=[PostingState.PENDING, PostingState.ACCEPTED], treasury_on_check=3)
    _, view = await _run(time_skipping_env, steps)
    assert view.status == S.COMPLETED and view.certificate_ready
    assert steps.stored == [
        S.AWAITING_PAYMENT,
        S.PAID,
        S.POSTING,
        S.POSTED,
        S.IN_TREASURY,
        S.COMPLETED,
    ]
    assert steps.calls.count(Steps.CHECK_POSTING.name) == 1
    assert steps.calls.count(Steps.CHECK_TREASURY.name) == 3
    assert [t.status for t in view.timeline] == [S.VERIFYING, *steps.stored]


async def test_an_unpaid_order_expires_closed_then_queried_and_frees_the_months(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    steps = FakeSteps()
    async with policies(time_skipping_env, steps) as p:
        view = await (await p.start()).result()
    assert view.status == S.EXPIRED
    assert steps.stored == [S.AWAITING_PAYMENT, S.EXPIRED] and steps.released_months
    # Polled while waiting (no callback came), then closed once: closing queries the order too.
    polls = steps.calls.count(Steps.QUERY_PAYMENT.name)
    assert polls >= 10
    assert steps.calls[-2:] == [Steps.CLOSE_PAYMENT_ORDER.name, Steps.RECORD_STATUS.name]


async def test_a_payment_in_the_last_second_is_kept_not_expired(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    steps = FakeSteps(state_at_close=PaymentState.PAID)
    async with policies(time_skipping_env, steps) as p:
        view = await (await p.start()).result()
    assert view.status == S.COMPLETED
    assert S.EXPIRED not in steps.stored


async def test_a_posting_the_agency_rejects_is_refunded(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    steps = FakeSteps(
        posting=[PostingState.REJECTED],
        refunds=[RefundState.PROCESSING, RefundState.PROCESSING, RefundState.SUCCESS],
    )
    _, view = await _run(time_skipping_env, steps)
    assert view.status == S.REFUNDED
    assert view.posting_state == PostingState.REJECTED
    assert view.refund is not None and view.refund.status == RefundState.SUCCESS
    assert steps.stored[-3:] == [S.POSTING, S.REFUNDING, S.REFUNDED] and steps.released_months
    assert steps.calls.count(Steps.CHECK_REFUND.name) == 2
    assert Steps.CHECK_TREASURY.name not in steps.calls


@pytest.mark.parametrize("refusal", [RefundState.CLOSED, RefundState.ABNORMAL])
async def test_a_failed_refund_waits_for_an_operator_who_retries_it(
    time_skipping_env: WorkflowEnvironment, refusal: RefundState
) -> None:
    steps = FakeSteps(posting=[PostingState.REJECTED], refunds=[refusal, RefundState.SUCCESS])
    inp = contribution_input()
    async with policies(time_skipping_env, steps) as p:
        handle = await p.in_review(inp)
        assert steps.stored[-1] == S.MANUAL_REVIEW
        waiting = await handle.query(ContributionWorkflow.status)
        assert waiting.review_reason and refusal.value in waiting.review_reason
        resolved = await handle.execute_update(
            ContributionWorkflow.resolve_review,
            ResolveReview(action=ReviewAction.RETRY_REFUND, note="channel fixed"),
        )
        assert resolved.status == S.REFUNDED
        assert (await handle.result()).status == S.REFUNDED
    # A retry is a new refund under the next number: the channel refunds once per number.
    cid = inp.contribution_id
    assert steps.refund_numbers == [f"RF{cid}01", f"RF{cid}02"]


async def test_an_operator_may_mark_a_refund_done_outside_the_channel(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    steps = FakeSteps(posting=[PostingState.REJECTED], refunds=[RefundState.CLOSED])
    async with policies(time_skipping_env, steps) as p:
        handle = await p.in_review()
        resolved = await handle.execute_update(
            ContributionWorkflow.resolve_review,
            ResolveReview(action=ReviewAction.MARK_REFUNDED, note="bank transfer"),
        )
    assert resolved.status == S.REFUNDED
    assert steps.stored[-2:] == [S.MANUAL_REVIEW, S.REFUNDED] and steps.released_months
    assert len(steps.refund_numbers) == 1


async def test_a_quote_the_policy_no_longer_prices_the_same_is_rejected_before_any_order(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    steps = FakeSteps(priced_fen=1)
    async with policies(time_skipping_env, steps) as p:
        view = await (await p.start()).result()
    assert (view.status, view.reject_reason) == (S.REJECTED, RejectReason.QUOTE_CHANGED)
    assert Steps.CREATE_PAYMENT_ORDER.name not in steps.calls
    assert steps.stored == [S.REJECTED] and steps.released_months


async def test_a_payer_may_cancel_while_the_order_awaits_payment(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    steps = FakeSteps()
    async with policies(time_skipping_env, steps) as p:
        handle = await p.start()
        await handle.execute_update(ContributionWorkflow.payment_details)
        view = await handle.execute_update(ContributionWorkflow.cancel, CancelRequest())
        assert view.status == S.CANCELLED
        assert (await handle.result()).status == S.CANCELLED
    assert Steps.CLOSE_PAYMENT_ORDER.name in steps.calls
    assert steps.stored == [S.AWAITING_PAYMENT, S.CANCELLED] and steps.released_months


# ---- updates answer only once storage agrees ----------------------------------------------------


async def _answers_only_after_release(
    steps: FakeSteps, update: asyncio.Task[ContributionView], wait_s: float
) -> ContributionView:
    """The update is still pending while the held step has not stored; it answers after."""
    done, _ = await asyncio.wait({update}, timeout=wait_s)
    assert not done, "the update answered before its status was stored"
    steps.released.set()
    return await update


async def test_cancel_answers_once_cancelled_is_stored(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    steps = FakeSteps(hold=Steps.RECORD_STATUS.name)
    async with policies(time_skipping_env, steps) as p:
        # A short workflow task timeout: a local activity still running past it no longer
        # holds back the task's other answers (an update's among them).
        handle = await p.start(task_timeout=timedelta(seconds=1))
        await handle.execute_update(ContributionWorkflow.payment_details)
        cancel = asyncio.create_task(
            handle.execute_update(ContributionWorkflow.cancel, CancelRequest())
        )
        view = await _answers_only_after_release(steps, cancel, wait_s=2)
        assert view.status == S.CANCELLED
        assert steps.stored[-1] == S.CANCELLED


async def test_a_retry_answers_once_the_refund_request_is_stored(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    steps = FakeSteps(posting=[PostingState.REJECTED], refunds=[RefundState.CLOSED])
    async with policies(time_skipping_env, steps) as p:
        handle = await p.in_review()
        steps.hold = Steps.REQUEST_REFUND.name
        retry = asyncio.create_task(
            handle.execute_update(
                ContributionWorkflow.resolve_review,
                ResolveReview(action=ReviewAction.RETRY_REFUND, note="try again"),
            )
        )
        view = await _answers_only_after_release(steps, retry, wait_s=1)
        # The answer is the retry the request stored, whatever the channel then said (here it
        # refused again, and the contribution went back to review after the answer).
        assert view.status == S.REFUNDING
        assert steps.stored[steps.stored.index(S.MANUAL_REVIEW) + 1] == S.REFUNDING
        await p.until(handle, S.MANUAL_REVIEW)


# ---- guards: what a forged signal, a stuck refund and a late cancel cannot do ------------------


async def test_a_forged_payment_notice_the_channel_does_not_confirm_is_not_recorded(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    steps = FakeSteps()
    async with policies(time_skipping_env, steps) as p:
        handle = await p.start()
        # SUCCESS sent straight to the workflow for an order nobody paid (the channel: NOTPAY).
        await p.notify(handle)
        view = await handle.result()
    assert view.status == S.EXPIRED
    assert Steps.RECORD_PAYMENT.name not in steps.calls and S.PAID not in steps.stored
    # The notice only led to asking the channel, right after it arrived.
    after_order = steps.calls[steps.calls.index(Steps.CREATE_PAYMENT_ORDER.name) + 1]
    assert after_order == Steps.QUERY_PAYMENT.name


async def test_a_payment_notice_is_confirmed_with_the_channel_before_it_is_recorded(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    steps = FakeSteps()
    async with policies(time_skipping_env, steps) as p:
        handle = await p.start()
        await p.pay(handle)
        view = await handle.result()
    assert view.status == S.COMPLETED
    order_at = steps.calls.index(Steps.CREATE_PAYMENT_ORDER.name)
    assert steps.calls[order_at + 1 : order_at + 3] == [
        Steps.QUERY_PAYMENT.name,
        Steps.RECORD_PAYMENT.name,
    ]


async def _cancel_while_verifying(p: Policies, steps: FakeSteps) -> tuple[Any, Any]:
    """Start with verification held, have a cancel accepted meanwhile, then let it finish."""
    steps.hold = Steps.VERIFY_AND_RESERVE.name
    # A short task timeout: the held local activity does not keep the update from the workflow.
    handle = await p.start(task_timeout=timedelta(seconds=1))
    update = await handle.start_update(
        ContributionWorkflow.cancel, CancelRequest(), wait_for_stage=WorkflowUpdateStage.ACCEPTED
    )
    steps.released.set()
    return handle, update


async def test_a_cancel_during_verifying_then_a_rejection_answers_instead_of_hanging(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    steps = FakeSteps(reject=RejectReason.NOT_ELIGIBLE)
    async with policies(time_skipping_env, steps) as p:
        handle, update = await _cancel_while_verifying(p, steps)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await update.result()
        assert isinstance(refused.value.cause, ApplicationError)
        assert refused.value.cause.type == "ALREADY_FINISHED"
        assert (await handle.result()).status == S.REJECTED


async def test_a_cancel_during_verifying_ends_it_before_any_order(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    steps = FakeSteps()
    async with policies(time_skipping_env, steps) as p:
        handle, update = await _cancel_while_verifying(p, steps)
        assert (await update.result()).status == S.CANCELLED
        assert (await handle.result()).status == S.CANCELLED
    assert Steps.CREATE_PAYMENT_ORDER.name not in steps.calls


async def test_a_refund_the_channel_keeps_refusing_goes_to_review_not_round_for_ever(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    steps = FakeSteps(posting=[PostingState.REJECTED], refund_unsettled=-1)
    async with policies(time_skipping_env, steps) as p:
        handle = await p.in_review()
        waiting = await handle.query(ContributionWorkflow.status)
    assert waiting.review_reason and "TRADE_ERROR" in waiting.review_reason
    assert steps.stored[-1] == S.MANUAL_REVIEW
    assert steps.calls.count(Steps.REQUEST_REFUND.name) == REFUND_UNSETTLED_ATTEMPTS
    # Tried again under the same number: the channel refunds at most once per number.
    assert len(set(steps.refund_numbers)) == 1


async def test_a_refund_refused_a_few_times_then_accepted_is_refunded(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    steps = FakeSteps(posting=[PostingState.REJECTED], refund_unsettled=2)
    _, view = await _run(time_skipping_env, steps)
    assert view.status == S.REFUNDED and S.MANUAL_REVIEW not in steps.stored
    assert steps.calls.count(Steps.REQUEST_REFUND.name) == 3


async def test_transient_refund_errors_are_retried_not_sent_to_review(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    steps = FakeSteps(
        posting=[PostingState.REJECTED], refund_transient=REFUND_UNSETTLED_ATTEMPTS + 2
    )
    _, view = await _run(time_skipping_env, steps)
    assert view.status == S.REFUNDED and S.MANUAL_REVIEW not in steps.stored


async def test_the_payer_is_told_of_the_payment_and_then_of_the_certificate(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    steps = FakeSteps()
    _, view = await _run(time_skipping_env, steps)
    assert view.status == S.COMPLETED
    assert steps.notices == ["payment_succeeded", "certificate_available"]


async def test_the_payer_is_told_the_refund_started_once_and_when_it_arrived(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    steps = FakeSteps(
        posting=[PostingState.REJECTED], refunds=[RefundState.CLOSED, RefundState.SUCCESS]
    )
    async with policies(time_skipping_env, steps) as p:
        handle = await p.in_review()
        await handle.execute_update(
            ContributionWorkflow.resolve_review,
            ResolveReview(action=ReviewAction.RETRY_REFUND, note="channel fixed"),
        )
        assert (await handle.result()).status == S.REFUNDED
    # Two refund attempts, one "refund started": the payer is not told twice.
    assert steps.notices == ["payment_succeeded", "refund_started", "refund_arrived"]


async def test_messages_wechat_will_not_take_never_hold_up_the_money(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    steps = FakeSteps(notify_fails=True)
    _, view = await _run(time_skipping_env, steps)
    assert view.status == S.COMPLETED
    assert steps.stored[-1] == S.COMPLETED
    # Each message was tried a bounded number of times, then left to the 消息 page.
    assert steps.notices.count("payment_succeeded") == 5
