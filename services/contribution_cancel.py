"""Cancelling a contribution before payment: the workflow decides, through its cancel update."""

from __future__ import annotations

from temporalio.client import RPCTimeoutOrCancelledError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from domain.reconciliation import ENDED_UNPAID
from domain.vocabulary import ContributionStatus
from services.context import AppState
from services.contribution_handles import UPDATE_TIMEOUT
from services.contribution_view import ContributionOut, find_contribution, load_contribution
from services.errors import ServiceError, unavailable
from storage import contributions
from storage.models import Person
from workflows.contract import CancelRequest, workflow_id
from workflows.contribution import ContributionWorkflow

S = ContributionStatus
BEFORE_PAYMENT = frozenset({S.VERIFYING, S.AWAITING_PAYMENT})
# The cancel update's refusals: storage then says which answer the payer gets.
UPDATE_REFUSALS = frozenset({"ALREADY_PAID", "ALREADY_FINISHED"})


def already_finished() -> ServiceError:
    return ServiceError(409, "ALREADY_FINISHED", "该缴费已结束，无需取消", None)


def already_paid() -> ServiceError:
    return ServiceError(409, "ALREADY_PAID", "已支付，不能取消", None)


def _cannot_cancel(status: ContributionStatus | None) -> ServiceError:
    if status in ENDED_UNPAID:
        return already_finished()
    return already_paid()


async def _stored_status(state: AppState, contribution_id: str) -> ContributionStatus | None:
    async with state.sessions() as db:
        row = await contributions.get_contribution(db, contribution_id)
    return row.status if row is not None else None


async def cancel_contribution(
    state: AppState, contribution_id: str, viewer: Person
) -> ContributionOut:
    """Before payment only: 409 ALREADY_PAID after, 409 ALREADY_FINISHED once ended.

    Storage says whether cancelling can still succeed; the workflow's update decides. The update
    answers only once the status it led to is stored, so the answer is read from storage too.
    """
    row, _payer = await find_contribution(state, contribution_id, viewer)
    if row.status not in BEFORE_PAYMENT:
        raise _cannot_cancel(row.status)
    await cancel_in_workflow(state, contribution_id, "payer")
    return await load_contribution(state, contribution_id, viewer)


async def cancel_in_workflow(state: AppState, contribution_id: str, reason: str) -> None:
    """The workflow's cancel path: close the order at the channel, then ask it once more.

    Answers once storage holds CANCELLED; 409 ALREADY_PAID when the payment came first,
    409 ALREADY_FINISHED when it ended otherwise, 503 when Temporal cannot be reached.
    """
    client = await state.temporal.client()
    handle = client.get_workflow_handle(workflow_id(contribution_id))
    try:
        await handle.execute_update(
            ContributionWorkflow.cancel,
            CancelRequest(reason=reason),
            rpc_timeout=UPDATE_TIMEOUT,
        )
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type in {
            "ALREADY_PAID",
            "ALREADY_FINISHED",
        }:
            raise _cannot_cancel(await _stored_status(state, contribution_id)) from None
        raise
    except (RPCError, RPCTimeoutOrCancelledError):
        # Most likely the run completed between our look and the update: tell how it ended.
        status = await _stored_status(state, contribution_id)
        if status is None or status in BEFORE_PAYMENT:
            raise unavailable() from None
        raise _cannot_cancel(status) from None
