"""Contributions: start (idempotent, update-with-start), status page data, cancel before payment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from temporalio.client import RPCTimeoutOrCancelledError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from api.auth import CurrentPerson
from api.state import State
from domain.contribution import CancelRequest, ContributionView
from domain.vocabulary import Channel, ContributionStatus
from services.contribution_handles import UPDATE_TIMEOUT, query_view, workflow_id
from services.contribution_start import ContributionStarter, check_key
from services.contribution_view import (
    ContributionOut,
    find_contribution,
    from_workflow,
    load_contribution,
)
from services.errors import ServiceError, unavailable
from workflows.contribution import ContributionWorkflow

router = APIRouter(prefix="/api/v1/contributions", tags=["payer"])

S = ContributionStatus
ENDED_UNPAID = frozenset({S.EXPIRED, S.CANCELLED, S.REJECTED})
BEFORE_PAYMENT = frozenset({S.VERIFYING, S.AWAITING_PAYMENT})


class StartIn(BaseModel):
    quote_id: str = Field(max_length=64)
    channel: Channel


def already_finished() -> ServiceError:
    return ServiceError(409, "ALREADY_FINISHED", "该缴费已结束，无需取消", None)


def already_paid() -> ServiceError:
    return ServiceError(409, "ALREADY_PAID", "已支付，不能取消", None)


def _cannot_cancel(view: ContributionView | None) -> ServiceError:
    if view is not None and view.status in ENDED_UNPAID:
        return already_finished()
    return already_paid()


@router.post("", status_code=201)
async def start(
    body: StartIn,
    state: State,
    me: CurrentPerson,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    """201 {contribution_id, status, payment}; same key and body → the same answer."""
    key = check_key(idempotency_key)
    client = await state.temporal.client()
    status, payload = await ContributionStarter(state, client).start(
        me, key, body.quote_id, body.channel
    )
    return JSONResponse(payload, status_code=status)


@router.get("/{contribution_id}", response_model=ContributionOut)
async def get_contribution(
    contribution_id: str, state: State, me: CurrentPerson
) -> ContributionOut:
    return await load_contribution(state, contribution_id, me)


@router.post("/{contribution_id}/cancel", response_model=ContributionOut)
async def cancel(contribution_id: str, state: State, me: CurrentPerson) -> ContributionOut:
    """Before payment only: 409 ALREADY_PAID after, 409 ALREADY_FINISHED once ended."""
    _row, payer = await find_contribution(state, contribution_id, me)
    client = await state.temporal.client()
    view = await query_view(client, contribution_id)
    if view is None:
        raise unavailable()
    if view.status not in BEFORE_PAYMENT:
        raise _cannot_cancel(view)
    handle = client.get_workflow_handle(workflow_id(contribution_id))
    try:
        result: ContributionView = await handle.execute_update(
            ContributionWorkflow.cancel,
            CancelRequest(reason="payer"),
            rpc_timeout=UPDATE_TIMEOUT,
        )
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type == "ALREADY_PAID":
            raise _cannot_cancel(await query_view(client, contribution_id)) from None
        raise
    except (RPCError, RPCTimeoutOrCancelledError):
        # Most likely the run completed between our look and the update: tell how it ended.
        view = await query_view(client, contribution_id)
        if view is None or view.status in BEFORE_PAYMENT:
            raise unavailable() from None
        raise _cannot_cancel(view) from None
    return from_workflow(result, payer)
