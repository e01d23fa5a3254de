"""Runs the shebao worker: `python worker.py` (settings from SHEBAO_* environment variables)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from activities.contribution import ContributionActivities
from adapters.clock import activity_clock
from adapters.factory import Adapters, build_simulators
from settings import Settings
from storage.db import make_engine, make_sessionmaker
from workflows.contribution import ContributionWorkflow
from workflows.converter import connect

WORKFLOWS: Sequence[type] = (ContributionWorkflow,)


def build_worker(
    client: Client,
    settings: Settings,
    activities: ContributionActivities,
    *,
    task_queue: str | None = None,
    fail_workflows_on_bugs: bool = False,
) -> Worker:
    """The worker for the contribution task queue, with every workflow and activity."""
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=list(WORKFLOWS),
        activities=activities.all(),
        # Every activity is async (I/O bound), so no thread pool is needed.
        max_concurrent_activities=100,
        # In production a bug in workflow code retries the task until a fix is deployed;
        # tests want it to fail the workflow at once instead of hanging.
        workflow_failure_exception_types=[Exception] if fail_workflows_on_bugs else [],
    )


def build_activities(
    settings: Settings, adapters: Adapters, sessions: async_sessionmaker[AsyncSession]
) -> ContributionActivities:
    """The activities over the given database and adapters."""
    return ContributionActivities(
        sessions,
        adapters.payments,
        adapters.posting,
        adapters.treasury,
        notify_url=f"{settings.base_url}/api/v1/payments/wechatpay/notify",
    )


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()
    engine = make_engine(settings.resolved_database_url)
    sessions = make_sessionmaker(engine)
    adapters = await build_simulators(settings, activity_clock)
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    worker = build_worker(client, settings, build_activities(settings, adapters, sessions))
    logging.getLogger("shebao.worker").info("worker polling task queue %s", settings.task_queue)
    try:
        await worker.run()
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
