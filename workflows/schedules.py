"""The Temporal Schedules, Asia/Shanghai: reconciliation daily at 10:30, the purge at 03:30,
payer reminders at 10:00."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from domain.reconciliation_messages import ReconciliationInput
from workflows.contract import (
    PURGE_SCHEDULE_ID,
    PURGE_SCHEDULED_WORKFLOW_ID,
    RECONCILIATION_SCHEDULE_ID,
    RECONCILIATION_SCHEDULED_WORKFLOW_ID,
    REMINDER_SCHEDULE_ID,
    REMINDER_SCHEDULED_WORKFLOW_ID,
)
from workflows.purge import PurgeWorkflow
from workflows.reconciliation import ReconciliationWorkflow
from workflows.reminders import PayerRemindersWorkflow

# WeChat Pay's trade bill of a day is ready after 10:00 the next day.
CRON = "30 10 * * *"
TIME_ZONE = "Asia/Shanghai"
# The quietest hour for payers.
PURGE_CRON = "30 3 * * *"
# Mid-morning: a reminder read when the payer can act on it. The run itself decides whether
# today is one of the reminder days before the cut-off.
REMINDER_CRON = "0 10 * * *"

log = logging.getLogger("shebao.schedules")


def _daily(action: ScheduleActionStartWorkflow, cron: str, catchup: timedelta) -> Schedule:
    """Every day at `cron` Shanghai time; a run still going is not doubled."""
    return Schedule(
        action=action,
        spec=ScheduleSpec(cron_expressions=[cron], time_zone_name=TIME_ZONE),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=catchup),
    )


def reconciliation_schedule(task_queue: str) -> Schedule:
    """Yesterday's bill every day at 10:30 Shanghai time."""
    action = ScheduleActionStartWorkflow(
        ReconciliationWorkflow.run,
        ReconciliationInput(),
        id=RECONCILIATION_SCHEDULED_WORKFLOW_ID,
        task_queue=task_queue,
    )
    # After an outage one catch-up run is enough: every run reconciles "yesterday" anyway.
    return _daily(action, CRON, timedelta(days=1))


def purge_schedule(task_queue: str) -> Schedule:
    """Expired sessions, quotes, captchas, idempotency keys and limit windows, daily at 03:30."""
    action = ScheduleActionStartWorkflow(
        PurgeWorkflow.run, id=PURGE_SCHEDULED_WORKFLOW_ID, task_queue=task_queue
    )
    return _daily(action, PURGE_CRON, timedelta(days=1))


def reminder_schedule(task_queue: str) -> Schedule:
    """Payer reminders, daily at 10:00 (sent only on the reminder days before the cut-off)."""
    action = ScheduleActionStartWorkflow(
        PayerRemindersWorkflow.run, id=REMINDER_SCHEDULED_WORKFLOW_ID, task_queue=task_queue
    )
    # A missed day is not caught up later: a reminder day passed is passed.
    return _daily(action, REMINDER_CRON, timedelta(hours=6))


async def ensure_schedule(client: Client, schedule_id: str, schedule: Schedule) -> None:
    """Create the schedule, or bring an existing one up to date (safe on every start)."""
    try:
        await client.create_schedule(schedule_id, schedule)
        log.info("schedule %s created", schedule_id)
    except ScheduleAlreadyRunningError:

        def _replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(_replace)
        log.info("schedule %s updated", schedule_id)


async def ensure_schedules(client: Client, task_queue: str) -> None:
    """Every schedule the worker's workflows need (reconciliation, purge, reminders)."""
    await ensure_schedule(client, RECONCILIATION_SCHEDULE_ID, reconciliation_schedule(task_queue))
    await ensure_schedule(client, PURGE_SCHEDULE_ID, purge_schedule(task_queue))
    await ensure_schedule(client, REMINDER_SCHEDULE_ID, reminder_schedule(task_queue))


async def main() -> None:
    from settings import Settings
    from workflows.converter import connect

    logging.basicConfig(level=logging.INFO)
    settings = Settings()
    client = await connect(settings)
    await ensure_schedules(client, settings.task_queue)


if __name__ == "__main__":
    asyncio.run(main())
