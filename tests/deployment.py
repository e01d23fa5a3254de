"""The app and a running worker over one fresh database, as the API and worker processes deploy."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from activities.purge import PurgeActivities
from activities.reconciliation import ReconciliationActivities
from activities.reminders import ReminderActivities
from adapters.clock import Clock, activity_clock, system_clock
from api.app import create_app
from settings import Settings
from storage.db import make_engine, make_sessionmaker, upgrade_database
from wiring import Systems, build_simulators
from worker import build_activities, build_worker, payer_messages

SystemsFactory = Callable[[Settings, Clock], Awaitable[Systems]]


@dataclass
class Deployment:
    """The app (its lifespan not yet entered) and what tests reach past it for."""

    app: FastAPI
    sessions: async_sessionmaker[AsyncSession]
    systems: Systems  # the API's: simulators on the system clock


@asynccontextmanager
async def app_and_worker(
    client: Client,
    settings: Settings,
    build: SystemsFactory = build_simulators,
    *,
    reconciliation: bool = False,
) -> AsyncIterator[Deployment]:
    """Migrated database, the worker polling settings.task_queue, the app built; all closed after.

    Two processes in production: the worker's adapters follow activity time, the API's the
    system clock; both share the simulator database.
    """
    await upgrade_database(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    sessions = make_sessionmaker(engine)
    worker_systems = await build(settings, activity_clock)
    api_systems = await build(settings, system_clock)
    try:
        worker = build_worker(
            client,
            settings,
            build_activities(settings, worker_systems.adapters, sessions),
            task_queue=settings.task_queue,
            reconciliation=(
                ReconciliationActivities(sessions, worker_systems.adapters.payments)
                if reconciliation
                else None
            ),
            purge=PurgeActivities(sessions),
            reminders=ReminderActivities(
                payer_messages(settings, worker_systems.adapters, sessions),
                settings.reminder_days_before_cutoff,
            ),
        )
        app = create_app(settings, client=client, sessions=sessions, systems=api_systems)
        async with worker:
            yield Deployment(app, sessions, api_systems)
    finally:
        await api_systems.aclose()
        await worker_systems.aclose()
        await engine.dispose()
