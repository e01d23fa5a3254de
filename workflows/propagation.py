"""The request id follows a request from the API into the workflows it reaches and their activities.

The design of temporalio/samples-python's `context_propagation`: one interceptor, on every
client (workflows/converter.py) and so on every worker, carries a context variable in Temporal
headers. The API's client writes the request's id into the header of each start, update, signal
and query; the workflow reads the start's id and keeps it for the run (replay reads it again from
history), a handler the id of the call that reached it; every activity the workflow schedules
gets it in its header, and the activity runs with it set. observability's log filter reads the
same variable, so API, workflow and activity lines of one request carry one id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from typing import Any, Protocol

from temporalio import client, converter, workflow
from temporalio.api.common.v1 import Payload
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    ExecuteWorkflowInput,
    HandleQueryInput,
    HandleSignalInput,
    HandleUpdateInput,
    Interceptor,
    SignalChildWorkflowInput,
    SignalExternalWorkflowInput,
    StartActivityInput,
    StartChildWorkflowInput,
    StartLocalActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

# The request being served. The API's middleware sets it; Temporal headers carry it on. Where
# there is none (a schedule's run, the worker outside any activity) it stays "-".
NONE = "-"
request_id: ContextVar[str] = ContextVar("request_id", default=NONE)

HEADER = "shebao-request-id"
# The shape of an id, short and plain (it lands in logs verbatim): what the API accepts from a
# caller (api/middleware/request_id.py), and checked again when a header arrives, since anyone
# who reaches the Temporal frontend can write one.
ID_SHAPE = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Headers are not encrypted (the clients' default header codec behaviour): the id is plain
# JSON, read and written with the SDK's default converter whatever a process's data converter.
_PLAIN = converter.default().payload_converter


class _WithHeaders(Protocol):
    headers: Mapping[str, Payload]


def _stamp(call: _WithHeaders) -> None:
    """Puts the current request id, if there is one, in the headers of an outgoing call."""
    rid = request_id.get()
    if rid != NONE:
        call.headers = {**call.headers, HEADER: _PLAIN.to_payload(rid)}


def request_id_in(headers: Mapping[str, Payload]) -> str | None:
    """The request id a call carries, or None for none or a malformed one (never an error)."""
    payload = headers.get(HEADER)
    if payload is None:
        return None
    try:
        rid = _PLAIN.from_payload(payload, str)
    except Exception:  # whatever a foreign client wrote: not ours to fail on
        return None
    return rid if isinstance(rid, str) and ID_SHAPE.fullmatch(rid) else None


@contextmanager
def _carrying(headers: Mapping[str, Payload]) -> Iterator[None]:
    """Runs the block with the request id of these headers (if any) as the current one."""
    rid = request_id_in(headers)
    if rid is None:
        yield
        return
    token = request_id.set(rid)
    try:
        yield
    finally:
        # A run dropped from the worker's cache (the worker stops while it waits) has its
        # coroutine closed by the garbage collector, in a context the token does not belong to;
        # the run's own context ends with it anyway.
        with suppress(ValueError):
            request_id.reset(token)


class RequestIdPropagation(client.Interceptor, Interceptor):
    """Registered on every client (workflows.converter); a worker takes it from its client."""

    def intercept_client(self, next: client.OutboundInterceptor) -> client.OutboundInterceptor:
        return _ClientOutbound(next)

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityInbound(next)

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return _WorkflowInbound


class _ClientOutbound(client.OutboundInterceptor):
    async def start_workflow(
        self, input: client.StartWorkflowInput
    ) -> client.WorkflowHandle[Any, Any]:
        _stamp(input)
        return await super().start_workflow(input)

    async def start_update_with_start_workflow(
        self, input: client.StartWorkflowUpdateWithStartInput
    ) -> client.WorkflowUpdateHandle[Any]:
        # How the API starts a contribution: the start and its first update, one id.
        _stamp(input.start_workflow_input)
        _stamp(input.update_workflow_input)
        return await super().start_update_with_start_workflow(input)

    async def start_workflow_update(
        self, input: client.StartWorkflowUpdateInput
    ) -> client.WorkflowUpdateHandle[Any]:
        _stamp(input)
        return await super().start_workflow_update(input)

    async def signal_workflow(self, input: client.SignalWorkflowInput) -> None:
        _stamp(input)
        await super().signal_workflow(input)

    async def query_workflow(self, input: client.QueryWorkflowInput) -> Any:
        _stamp(input)
        return await super().query_workflow(input)


class _ActivityInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        with _carrying(input.headers):
            return await super().execute_activity(input)


class _WorkflowInbound(WorkflowInboundInterceptor):
    """Inside the workflow sandbox: setting a context variable issues no command, and the id
    comes from history, so replay is unchanged."""

    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_WorkflowOutbound(outbound))

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        # Set in the run's own task: its log lines and every step it schedules carry the id.
        with _carrying(input.headers):
            return await super().execute_workflow(input)

    async def handle_signal(self, input: HandleSignalInput) -> None:
        with _carrying(input.headers):
            await super().handle_signal(input)

    async def handle_query(self, input: HandleQueryInput) -> Any:
        with _carrying(input.headers):
            return await super().handle_query(input)

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        with _carrying(input.headers):
            super().handle_update_validator(input)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        with _carrying(input.headers):
            return await super().handle_update_handler(input)


class _WorkflowOutbound(WorkflowOutboundInterceptor):
    def start_activity(self, input: StartActivityInput) -> workflow.ActivityHandle[Any]:
        _stamp(input)
        return super().start_activity(input)

    def start_local_activity(self, input: StartLocalActivityInput) -> workflow.ActivityHandle[Any]:
        _stamp(input)
        return super().start_local_activity(input)

    async def start_child_workflow(
        self, input: StartChildWorkflowInput
    ) -> workflow.ChildWorkflowHandle[Any, Any]:
        _stamp(input)
        return await super().start_child_workflow(input)

    async def signal_child_workflow(self, input: SignalChildWorkflowInput) -> None:
        _stamp(input)
        await super().signal_child_workflow(input)

    async def signal_external_workflow(self, input: SignalExternalWorkflowInput) -> None:
        _stamp(input)
        await super().signal_external_workflow(input)
