"""What a pooled PostgreSQL connection that the server dropped does to the API's and worker's
engines: the API's tests it first, the worker's fails one attempt that Temporal retries."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from settings import Settings
from storage.db import make_engine
from worker import make_worker_engine, make_worker_sim_engine
from workflows.contribution import STEP_RETRY

pytestmark = pytest.mark.postgres


async def drop_every_connection_but_the_admins(url: str) -> int:
    """What a PostgreSQL restart or failover does to a pool: its connections die under it."""
    admin = make_engine(url)
    try:
        async with admin.connect() as conn:
            dropped = await conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    finally:
        await admin.dispose()
    return int(dropped or 0)


async def one(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT 1")) or 0)


async def test_the_api_engine_gets_past_a_dropped_connection_without_failing_a_request(
    postgres_url: str,
) -> None:
    engine = make_engine(postgres_url)
    try:
        assert await one(engine) == 1
        assert await drop_every_connection_but_the_admins(postgres_url) == 1
        assert await one(engine) == 1
    finally:
        await engine.dispose()


def _worker_app_engine(url: str) -> AsyncEngine:
    return make_worker_engine(Settings(database_url=url))


def _worker_sim_engine(url: str) -> AsyncEngine:
    return make_worker_sim_engine(Settings(sim_database_url=url))


@pytest.mark.parametrize("make", [_worker_app_engine, _worker_sim_engine], ids=["app", "sim"])
async def test_the_worker_engines_fail_one_attempt_retryably_then_connect_afresh(
    postgres_url: str, make: Callable[[str], AsyncEngine]
) -> None:
    engine = make(postgres_url)
    try:
        assert await one(engine) == 1
        assert await drop_every_connection_but_the_admins(postgres_url) == 1
        with pytest.raises(DBAPIError) as failed:
            await one(engine)
        # Seen as a dropped connection: the pool is discarded, and Temporal retries the activity
        # (a retry policy matches non-retryable types by class name).
        assert failed.value.connection_invalidated
        assert type(failed.value).__name__ not in (STEP_RETRY.non_retryable_error_types or ())
        assert await one(engine) == 1
    finally:
        await engine.dispose()
