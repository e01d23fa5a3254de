"""The request id of a start stays with the workflow's run and reaches every activity it starts."""

from __future__ import annotations

import gc
import sys
import uuid
from typing import Any

import pytest
from temporalio import client, converter, workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.payments import PaymentState
from domain.vocabulary import ContributionStatus
from tests.support import log_lines
from tests.workflows.conftest import Stack
from tests.workflows.starting import start_contribution
from workflows.contract import CancelRequest, PaymentNotice
from workflows.contribution import ContributionWorkflow
from workflows.converter import interceptors
from workflows.propagation import HEADER, NONE, request_id, request_id_in

S = ContributionStatus


async def test_the_start_id_is_kept_for_the_run_and_given_to_each_activity(stack: Stack) -> None:
    inp = await stack.contribution()
    with log_lines() as lines:
        token = request_id.set("start-req-1")
        try:
            handle = await stack.start(inp)
            order = await handle.execute_update(ContributionWorkflow.payment_details)
        finally:
            request_id.reset(token)
        # Another request's signal: the channel does not confirm it, and the run says so.
        token = request_id.set("signal-req-2")
        try:
            await handle.signal(
                ContributionWorkflow.payment_notified,
                PaymentNotice(
                    event_id="forged-1",
                    out_trade_no=order.out_trade_no,
                    state=PaymentState.PAID,
                    provider_state="SUCCESS",
                    amount_fen=inp.total_fen,
                ),
            )
        finally:
            request_id.reset(token)
        # No id at all (a schedule, a script): the run's own id is kept.
        cancelled = await handle.execute_update(ContributionWorkflow.cancel, CancelRequest())
    assert cancelled.status == S.CANCELLED

    [warning] = [line for line in lines if "does not confirm" in line["msg"]]
    assert warning["request_id"] == "start-req-1"
    recorded = [line for line in lines if line["logger"] == "activities.contribution"]
    assert [line["msg"].split(": ")[1] for line in recorded] == [
        f"payment order {order.out_trade_no} created",
        "CANCELLED recorded",
    ]
    assert {line["request_id"] for line in recorded} == {"start-req-1"}
    history = await handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    assert request_id_in(started.header.fields) == "start-req-1"


class _Forger(client.Interceptor):
    """A foreign client that writes its own request-id header."""

    def __init__(self, header: Payload) -> None:
        self._header = header

    def intercept_client(self, next: client.OutboundInterceptor) -> client.OutboundInterceptor:
        header = self._header

        class Outbound(client.OutboundInterceptor):
            async def start_workflow(
                self, input: client.StartWorkflowInput
            ) -> client.WorkflowHandle[Any, Any]:
                input.headers = {**input.headers, HEADER: header}
                return await super().start_workflow(input)

        return Outbound(next)


PLAIN = converter.default().payload_converter
JUNK = [
    PLAIN.to_payload("a b\tc"),  # not the shape the API accepts
    PLAIN.to_payload("x" * 65),
    PLAIN.to_payload(42),  # not a string
    Payload(metadata={"encoding": b"json/plain"}, data=b"{not json"),
    Payload(metadata={"encoding": b"binary/encrypted"}, data=b"\x00"),
]


@pytest.mark.parametrize("junk", JUNK)
def test_a_malformed_header_is_no_request_id(junk: Payload) -> None:
    assert request_id_in({HEADER: junk}) is None


async def test_a_run_without_an_id_or_with_a_forged_one_runs_without(stack: Stack) -> None:
    plain = await stack.contribution()
    forged = await stack.contribution(months=[plain.months[0]])
    forged = forged.model_copy(update={"contribution_id": plain.contribution_id[::-1]})
    foreign = Client(
        stack.env.client.service_client,
        namespace=stack.env.client.namespace,
        data_converter=stack.env.client.data_converter,
        interceptors=[*interceptors(), _Forger(JUNK[0])],
    )
    with log_lines() as lines:
        # As a schedule starts a run: no request id at all.
        handle = await stack.start(plain)
        await handle.execute_update(ContributionWorkflow.payment_details)
        other = await start_contribution(foreign, forged, stack.task_queue)
        # The months are held by the first: rejected, and run to the end all the same.
        rejected = await stack.env.client.get_workflow_handle(other.id).result()
        await handle.execute_update(ContributionWorkflow.cancel, CancelRequest())
    assert rejected["status"] == S.REJECTED

    recorded = [line for line in lines if line["logger"] == "activities.contribution"]
    assert {line["request_id"] for line in recorded} == {NONE}
    assert len(recorded) == 3  # payment order created, CANCELLED, REJECTED
    for h in (handle, other):
        history = await h.fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        assert request_id_in(started.header.fields) is None


@workflow.defn(sandboxed=False)
class _Waits:
    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)


async def test_a_run_dropped_when_its_worker_stops_leaves_no_error_behind(
    time_skipping_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    task_queue = f"evict-{uuid.uuid4().hex[:8]}"
    token = request_id.set("req-evicted")
    try:
        # The worker stops while the run waits: its cached run is dropped, not finished.
        async with Worker(
            time_skipping_env.client,
            task_queue=task_queue,
            workflows=[_Waits],
        ):
            handle = await time_skipping_env.client.start_workflow(
                _Waits.run, id=task_queue, task_queue=task_queue
            )
            await handle.query("__stack_trace")  # the first workflow task is done
        await handle.terminate("test over")
    finally:
        request_id.reset(token)
    gc.collect()
    assert [u.exc_value for u in unraisable] == []
