"""Starting a contribution workflow in tests as the API does: its ID and first search attributes."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, WorkflowHandle

from workflows import search_attributes as sa
from workflows.contract import ContributionInput, workflow_id
from workflows.contribution import ContributionWorkflow


async def start_contribution(
    client: Client, inp: ContributionInput, task_queue: str, **options: Any
) -> WorkflowHandle[ContributionWorkflow, Any]:
    return await client.start_workflow(
        ContributionWorkflow.run,
        inp,
        id=workflow_id(inp.contribution_id),
        task_queue=task_queue,
        search_attributes=sa.initial(inp),
        **options,
    )
