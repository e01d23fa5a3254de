"""PayerRemindersWorkflow: on the policy's reminder days, remind opted-in payers of open months."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.cleartext import ClearText
    from workflows.contract import ReminderSteps as R


@workflow.defn
class PayerRemindersWorkflow:
    """One step, as of the run's start: whether today is a reminder day is the step's to decide
    (the cut-off is in the policy, the days before it in settings), so a daily schedule suffices.
    """

    @workflow.run
    async def run(self) -> int:
        recorded: int = await workflow.execute_activity(
            R.SEND_REMINDERS.name,
            workflow.now(),
            result_type=R.SEND_REMINDERS.result_type,
            start_to_close_timeout=timedelta(minutes=10),
            # Each reminder has its one key (person, year, round): a retry sends nobody twice.
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5), maximum_attempts=10),
            summary=ClearText("remind payers of open months"),
        )
        return recorded
