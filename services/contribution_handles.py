"""Reaching one contribution's workflow: its id, and its status query with a bounded wait."""

from __future__ import annotations

import logging
from datetime import timedelta

from temporalio.client import (
    Client,
    RPCTimeoutOrCancelledError,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)
from temporalio.service import RPCError

from domain.contribution import ContributionView
from workflows.contribution import ContributionWorkflow

log = logging.getLogger("shebao.api")

# A query needs a worker; without one, callers fall back instead of hanging the request.
QUERY_TIMEOUT = timedelta(seconds=5)
# Updates wait for activities (closing an order, say): longer, still bounded.
UPDATE_TIMEOUT = timedelta(seconds=30)


def workflow_id(contribution_id: str) -> str:
    """`contribution-<id>`: random, no personal data."""
    return f"contribution-{contribution_id}"


async def query_view(client: Client | None, contribution_id: str) -> ContributionView | None:
    """The workflow's own view, or None when it cannot be asked (gone, no worker, no server)."""
    if client is None:
        return None
    try:
        view: ContributionView = await client.get_workflow_handle(
            workflow_id(contribution_id)
        ).query(ContributionWorkflow.status, rpc_timeout=QUERY_TIMEOUT)
    except (
        RPCError,
        RPCTimeoutOrCancelledError,
        WorkflowQueryFailedError,
        WorkflowQueryRejectedError,
    ) as err:
        log.info("status query unavailable (%s)", type(err).__name__)
        return None
    return view
