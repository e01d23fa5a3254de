"""PostgreSQL connections are kept and reused under load, never opened and closed per burst."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from storage.db import PG_POOL_SIZE, make_engine
from tests.pg import postgres_url  # noqa: F401  (fixture: a fresh database per test)

pytestmark = pytest.mark.postgres


async def test_a_burst_beyond_the_pool_reuses_its_connections_instead_of_opening_more(
    postgres_url: str,  # noqa: F811
) -> None:
    engine = make_engine(postgres_url)

    async def backend_pid() -> int:
        async with engine.connect() as conn:
            # Long enough that the burst's 30 checkouts overlap.
            return int(await conn.scalar(text("SELECT pg_backend_pid() FROM pg_sleep(0.05)")) or 0)

    try:
        first = set(await asyncio.gather(*(backend_pid() for _ in range(3 * PG_POOL_SIZE))))
        second = set(await asyncio.gather(*(backend_pid() for _ in range(3 * PG_POOL_SIZE))))
    finally:
        await engine.dispose()
    assert len(first) == PG_POOL_SIZE
    # The same server processes answered: no connection was closed and opened again.
    assert second == first
