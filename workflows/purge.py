"""PurgeWorkflow: delete what has expired (sessions, quotes, captchas, idempotency keys, limits)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.cleartext import ClearText
    from workflows.contract import PurgeCounts
    from workflows.contract import PurgeSteps as P


@workflow.defn
class PurgeWorkflow:
    """One step: the rows expired as of the workflow's start are deleted, in one transaction."""

    @workflow.run
    async def run(self) -> PurgeCounts:
        counts: PurgeCounts = await workflow.execute_activity(
            P.PURGE_EXPIRED.name,
            workflow.now(),
            result_type=P.PURGE_EXPIRED.result_type,
            start_to_close_timeout=timedelta(minutes=5),
            # Deleting what expired is idempotent: retry until the database answers.
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
            summary=ClearText("purge expired rows"),
        )
        return counts
