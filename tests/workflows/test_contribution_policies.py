"""The workflow's policies with scripted steps: no database, no simulators, time skipped."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from domain.vocabulary import (
    ContributionStatus,
    PostingState,
    RefundState,
)
from tests.workflows.fake_steps import FakeSteps, policies
from workflows.contract import CancelRequest, ContributionView, ResolveReview, ReviewAction
from workflows.contract import ContributionSteps as Steps
from workflows.contribution import ContributionWorkflow

S = ContributionStatus


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
        handle = await p.start()
        await p.pay(handle)
        await p.until(handle, S.MANUAL_REVIEW)
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
