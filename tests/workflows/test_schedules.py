"""The daily Temporal Schedules: each at its Shanghai hour, on the worker's queue, created once
and brought up to date on every start."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from temporalio.client import Schedule, ScheduleActionStartWorkflow
from temporalio.testing import WorkflowEnvironment

from tests.support import SHANGHAI
from workflows.contract import PURGE_SCHEDULE_ID, RECONCILIATION_SCHEDULE_ID, REMINDER_SCHEDULE_ID
from workflows.schedules import (
    ensure_schedule,
    purge_schedule,
    reconciliation_schedule,
    reminder_schedule,
)

QUEUE = "schedules-test-queue"


@pytest.mark.parametrize(
    ("schedule_id", "build", "workflow", "at", "catchup"),
    [
        # WeChat Pay's bill of a day is ready after 10:00 the next day.
        (
            RECONCILIATION_SCHEDULE_ID,
            reconciliation_schedule,
            "ReconciliationWorkflow",
            (10, 30),
            timedelta(days=1),
        ),
        (PURGE_SCHEDULE_ID, purge_schedule, "PurgeWorkflow", (3, 30), timedelta(days=1)),
        # A reminder day passed is passed: no catch-up the next day.
        (
            REMINDER_SCHEDULE_ID,
            reminder_schedule,
            "PayerRemindersWorkflow",
            (10, 0),
            timedelta(hours=6),
        ),
    ],
    ids=["reconciliation", "purge", "reminders"],
)
async def test_each_daily_schedule_runs_at_its_shanghai_hour_and_is_idempotent(
    dev_env: WorkflowEnvironment,
    schedule_id: str,
    build: Callable[[str], Schedule],
    workflow: str,
    at: tuple[int, int],
    catchup: timedelta,
) -> None:
    client = dev_env.client
    await ensure_schedule(client, schedule_id, build("first-queue"))
    await ensure_schedule(client, schedule_id, build(QUEUE))  # the second start updates it
    handle = client.get_schedule_handle(schedule_id)
    try:
        desc = await handle.describe()
        spec = desc.schedule.spec
        assert spec.time_zone_name == "Asia/Shanghai"
        # The server keeps a cron string as the equivalent calendar.
        (calendar,) = spec.calendars or []
        assert [(r.start, r.end) for r in calendar.hour] == [(at[0], at[0])]
        assert [(r.start, r.end) for r in calendar.minute] == [(at[1], at[1])]
        action = desc.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert action.workflow == workflow
        assert action.task_queue == QUEUE
        assert desc.schedule.policy.catchup_window == catchup
        next_run = desc.info.next_action_times[0].astimezone(SHANGHAI)
        assert (next_run.hour, next_run.minute) == at
        schedules = [s.id async for s in await client.list_schedules()]
        assert schedules.count(schedule_id) == 1
    finally:
        await handle.delete()
