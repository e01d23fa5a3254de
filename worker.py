"""Runs the shebao worker: `python worker.py` (settings from SHEBAO_* environment variables)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import py_compile
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError
from temporalio.worker import Worker

from activities.classified_errors import ClassifiedErrors
from activities.contribution import ContributionActivities
from activities.purge import PurgeActivities
from activities.reconciliation import ReconciliationActivities
from activities.reminders import ReminderActivities
from adapters.clock import activity_clock
from adapters.seams import Adapters
from observability import log_startup, setup_logging
from process_heap import freeze_startup_heap
from services.payer_messages import PayerMessages
from settings import Settings
from storage.db import POOL_OVERFLOW, POOL_SIZE, make_engine, make_sessionmaker
from wiring import build_adapters, make_sim_engine
from workflows.contribution import ContributionWorkflow
from workflows.converter import connect
from workflows.purge import PurgeWorkflow
from workflows.reconciliation import ReconciliationWorkflow
from workflows.reminders import PayerRemindersWorkflow
from workflows.schedules import ensure_schedules

WORKFLOWS: Sequence[type] = (
    ContributionWorkflow,
    ReconciliationWorkflow,
    PurgeWorkflow,
    PayerRemindersWorkflow,
)


def build_worker(
    client: Client,
    settings: Settings,
    activities: ContributionActivities,
    *,
    task_queue: str | None = None,
    fail_workflows_on_bugs: bool = False,
    reconciliation: ReconciliationActivities | None = None,
    purge: PurgeActivities | None = None,
    reminders: ReminderActivities | None = None,
) -> Worker:
    """The worker for the contribution task queue, with every workflow and activity."""
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=list(WORKFLOWS),
        activities=[
            *activities.all(),
            *(reconciliation.all() if reconciliation else []),
            *(purge.all() if purge else []),
            *(reminders.all() if reminders else []),
        ],
        # Every activity is async (I/O bound), so no thread pool is needed.
        max_concurrent_activities=100,
        # Which adapter errors end a step at once is decided by their class (not their name).
        interceptors=[ClassifiedErrors()],
        # In production a bug in workflow code retries the task until a fix is deployed;
        # tests want it to fail the workflow at once instead of hanging.
        workflow_failure_exception_types=[Exception] if fail_workflows_on_bugs else [],
    )


def sdk_runtime(settings: Settings) -> Runtime | None:
    """The SDK's own metrics (task latencies, slots, polls) on a Prometheus endpoint, if set."""
    if not settings.worker_metrics_address:
        return None
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(bind_address=settings.worker_metrics_address)
        )
    )


def cache_workflow_bytecode() -> None:
    """Write the workflow modules' bytecode cache, whatever PYTHONDONTWRITEBYTECODE says.

    The sandbox re-imports a workflow's module for every workflow it starts or replays; with no
    cache that is a compile of the source each time, about 4 % of the worker's CPU per
    contribution in bench/throughput.py. Python still reads a cache it may not write, and
    rejects one older than its source. A read-only tree (the image has its cache) is fine.
    """
    for workflow_class in WORKFLOWS:
        source = inspect.getsourcefile(workflow_class)
        if source is not None:
            with contextlib.suppress(OSError, py_compile.PyCompileError):
                py_compile.compile(source, doraise=True)


def make_worker_engine(settings: Settings) -> AsyncEngine:
    """The app database's engine as the worker uses it: only inside activities, so without
    pre-ping, since Temporal retries an activity whose PostgreSQL connection was dropped
    (storage.db.make_engine)."""
    return make_engine(settings.resolved_database_url, pre_ping=False)


def make_worker_sim_engine(settings: Settings) -> AsyncEngine:
    """The simulators' engine as the worker uses it: as make_worker_engine, with its pool."""
    return make_sim_engine(
        settings, pre_ping=False, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW
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
        base_url=settings.base_url,
        messages=payer_messages(settings, adapters, sessions),
    )


def payer_messages(
    settings: Settings, adapters: Adapters, sessions: async_sessionmaker[AsyncSession]
) -> PayerMessages:
    """Messages to payers, through the 公众号's messenger the adapters carry."""
    return PayerMessages(
        sessions, adapters.messages, settings.base_url, dict(settings.wechat_mp_templates)
    )


# How long the worker waits between attempts to reach a Temporal server that is not up yet.
CONNECT_RETRY_FIRST_S = 0.5
CONNECT_RETRY_MAX_S = 10.0


async def connect_when_up(settings: Settings, runtime: Runtime | None) -> Client:
    """Connect to Temporal, waiting for it: a worker that starts while the server restarts
    (a deploy, a crash) must not exit and leave its task queue without a poller."""
    wait = CONNECT_RETRY_FIRST_S
    while True:
        try:
            return await connect(settings, runtime)
        except RuntimeError as err:
            # The SDK reports a refused or failed connection as a RuntimeError.
            logging.getLogger("shebao.worker").warning(
                "Temporal at %s not reachable (%s); retrying in %.1f s",
                settings.temporal_address,
                type(err).__name__,
                wait,
            )
            await asyncio.sleep(wait)
            wait = min(wait * 2, CONNECT_RETRY_MAX_S)


async def main() -> None:
    settings = Settings()
    # Before anything else: every problem at once, nothing connected.
    settings.require_production_safe()
    cache_workflow_bytecode()
    setup_logging("worker", json_lines=settings.log_json)
    log_startup("worker", settings)
    engine = make_worker_engine(settings)
    sessions = make_sessionmaker(engine)
    systems = await build_adapters(settings, activity_clock, make_worker_sim_engine(settings))
    adapters = systems.adapters
    client = await connect_when_up(settings, sdk_runtime(settings))
    # The daily schedules (reconciliation, purge) are created or brought up to date at every
    # worker start; a refusal is logged loudly but must not keep contributions from being
    # processed.
    try:
        await ensure_schedules(client, settings.task_queue)
    except RPCError as err:
        logging.getLogger("shebao.worker").error("schedules not set: %s", err.status)
    worker = build_worker(
        client,
        settings,
        build_activities(settings, adapters, sessions),
        reconciliation=ReconciliationActivities(sessions, adapters.payments),
        purge=PurgeActivities(sessions),
        reminders=ReminderActivities(
            payer_messages(settings, adapters, sessions), settings.reminder_days_before_cutoff
        ),
    )
    logging.getLogger("shebao.worker").info("worker polling task queue %s", settings.task_queue)
    freeze_startup_heap()
    try:
        await worker.run()
    finally:
        await engine.dispose()
        await systems.simulators.engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
