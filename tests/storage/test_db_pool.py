"""An API process's or worker's burst of concurrent transactions reuses kept connections: it
does not open a new PostgreSQL backend for most of them."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from storage.db import POOL_SIZE, make_engine

pytestmark = pytest.mark.postgres


async def test_a_burst_of_concurrent_requests_leaves_its_connections_open_for_the_next(
    postgres_url: str,
) -> None:
    engine = make_engine(postgres_url)
    release = asyncio.Event()
    all_holding = asyncio.Event()
    holding = 0

    async def hold_a_connection() -> None:
        nonlocal holding
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            holding += 1
            if holding == POOL_SIZE:
                all_holding.set()
            await release.wait()

    try:
        burst = [asyncio.create_task(hold_a_connection()) for _ in range(POOL_SIZE)]
        await all_holding.wait()
        release.set()
        await asyncio.gather(*burst)
        # All kept for the next burst (SQLAlchemy's default keeps 5 and closes the rest).
        assert engine.pool.checkedin() == POOL_SIZE  # type: ignore[attr-defined]
        assert POOL_SIZE >= 20
    finally:
        await engine.dispose()
