"""An update-with-start that fails leaves nothing for asyncio to report as never retrieved."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest
from temporalio.client import WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from services.contribution_handles import start_failure_read
from tests.conftest import venv_binary

pytestmark = pytest.mark.devserver


async def test_a_start_refused_while_temporal_is_down_is_not_logged_as_never_retrieved() -> None:
    unreported: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: unreported.append(context))
    try:
        # A client connected to a server that is then killed, as the crash run does.
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=venv_binary("temporal"), ui=False
        )
        client = env.client
        await env.shutdown()
        operation = WithStartWorkflowOperation[Any, Any](
            "ContributionWorkflow",
            id="contribution-down",
            task_queue="q",
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        with pytest.raises(RPCError):
            async with start_failure_read(operation):
                await client.execute_update_with_start_workflow(
                    "payment_details", start_workflow_operation=operation
                )
        del operation
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(None)
    assert [c["message"] for c in unreported] == []
