"""The Temporal Schedule that runs reconciliation daily at 10:30 Asia/Shanghai (idempotent)."""

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
from workflows.contract import RECONCILIATION_SCHEDULE_ID, RECONCILIATION_SCHEDULED_WORKFLOW_ID
from workflows.reconciliation import ReconciliationWorkflow

SCHEDULE_ID = RECONCILIATION_SCHEDULE_ID
# WeChat Pay's trade bill of a day is ready after 10:00 the next day.
CRON = "30 10 * * *"
TIME_ZONE = "Asia/Shanghai"

log = logging.getLogger("shebao.reconciliation")


def reconciliation_schedule(task_queue: str) -> Schedule:
    """Yesterday's bill every day at 10:30 Shanghai time; a run still going is not doubled."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            ReconciliationWorkflow.run,
            ReconciliationInput(),
            id=RECONCILIATION_SCHEDULED_WORKFLOW_ID,
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(cron_expressions=[CRON], time_zone_name=TIME_ZONE),
        # After an outage one catch-up run is enough: every run reconciles "yesterday" anyway.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1)),
    )


async def ensure_reconciliation_schedule(client: Client, task_queue: str) -> None:
    """Create the schedule, or bring an existing one up to date (safe on every start)."""
    schedule = reconciliation_schedule(task_queue)
    try:
        await client.create_schedule(SCHEDULE_ID, schedule)
        log.info("schedule %s created", SCHEDULE_ID)
    except ScheduleAlreadyRunningError:

        def _replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(SCHEDULE_ID).update(_replace)
        log.info("schedule %s updated", SCHEDULE_ID)


async def main() -> None:
    from settings import Settings
    from workflows.converter import connect

    logging.basicConfig(level=logging.INFO)
    settings = Settings()
    client = await connect(settings)
    await ensure_reconciliation_schedule(client, settings.task_queue)


if __name__ == "__main__":
    asyncio.run(main())
