"""Operators read the waits of a contribution in Temporal UI without the key; nothing personal."""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.localtime import shanghai_text
from domain.vocabulary import ContributionStatus
from observability import mask
from tests.support import clear_summary, current_details, without_key
from tests.workflows.conftest import Stack, make_stack
from workflows.contract import ContributionInput, PaymentOrder
from workflows.contribution import ContributionWorkflow

S = ContributionStatus
NEXT_AT = re.compile(r"(?:next(?: query)? at|try \d+ of \d+ at) (\S+ \S+ Asia/Shanghai)")


async def timer_summaries(env: WorkflowEnvironment, workflow_id: str) -> list[tuple[str, str]]:
    """Each timer's summary as stored, and the moment the timer fires (Asia/Shanghai)."""
    history = await without_key(env.client).get_workflow_handle(workflow_id).fetch_history()
    found = []
    # Workflow time is the start of the workflow task that scheduled the timer.
    task_started = None
    for event in history.events:
        if event.HasField("workflow_task_started_event_attributes"):
            task_started = event.event_time.ToDatetime(tzinfo=UTC)
        if event.HasField("timer_started_event_attributes"):
            assert task_started is not None
            fire_in = event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
            found.append(
                (clear_summary(event.user_metadata.summary), shanghai_text(task_started + fire_in))
            )
    return found


def assert_not_personal(text: str, stack: Stack, inp: ContributionInput) -> None:
    for secret in ("张三", stack.person_id, stack.payer_ref, inp.person_id, "openid"):
        assert secret not in text
    assert mask(text) == text  # no ID number of any of the six formats


async def order_of(handle: WorkflowHandle[Any, Any]) -> PaymentOrder:
    return await handle.execute_update(ContributionWorkflow.payment_details)


async def test_the_waits_of_a_paid_contribution_read_in_clear(
    time_skipping_env: WorkflowEnvironment, stack: Stack
) -> None:
    inp = await stack.contribution()
    handle = await stack.start(inp)
    order = await order_of(handle)

    details = await current_details(time_skipping_env.client, handle.id)
    assert details.startswith("status: AWAITING_PAYMENT")
    assert f"awaiting payment until {shanghai_text(order.expires_at)}" in details

    await stack.pay(order.out_trade_no)  # no callback: the next query finds it
    result = await handle.result()
    assert result.status == S.COMPLETED

    timers = await timer_summaries(time_skipping_env, handle.id)
    assert timers, "a paid contribution waits on timers"
    kinds = set()
    for text, fires_at in timers:
        assert_not_personal(text, stack, inp)
        # Each says when it fires, exactly as the server will fire it.
        [when] = NEXT_AT.findall(text)
        assert when == fires_at, text
        kinds.add(text.split(",")[0].split(" until")[0])
    assert kinds == {"awaiting payment", "posting check", "treasury check"}
    assert any(f"receipt expected {result.expected_treasury_date}" in text for text, _ in timers)
    assert any(
        text.startswith(f"awaiting payment until {shanghai_text(order.expires_at)}, next query")
        for text, _ in timers
    )
    assert await current_details(time_skipping_env.client, handle.id) == "status: COMPLETED"


async def test_a_refund_and_a_manual_review_read_in_clear(
    time_skipping_env: WorkflowEnvironment, tmp_path: Any
) -> None:
    env = time_skipping_env
    async with make_stack(env, tmp_path, sim_posting_failure_rate=1.0) as stack:
        inp = await stack.contribution()
        handle = await stack.in_manual_review(inp)

        details = await current_details(env.client, handle.id)
        assert details.startswith("status: MANUAL_REVIEW\n\nmanual review: waiting for an operator")
        assert_not_personal(details, stack, inp)
        timers = await timer_summaries(env, handle.id)
        refund_checks = [t for t in timers if t[0].startswith("refund check, next at")]
        assert refund_checks
        for text, fires_at in timers:
            assert_not_personal(text, stack, inp)
            assert NEXT_AT.findall(text) == [fires_at], text
        await handle.terminate("test over")
