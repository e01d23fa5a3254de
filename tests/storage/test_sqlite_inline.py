"""SQLite runs on the event loop's thread: no aiosqlite thread, errors and closing as before."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage.db import make_engine
from storage.sqlite_inline import InlineConnection


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}"


async def test_statements_run_on_the_event_loops_thread_with_no_helper_thread(url: str) -> None:
    threads_before = threading.active_count()
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            assert isinstance(driver, InlineConnection)
            await driver.create_function("thread_id", 0, threading.get_ident)
            ran_on = await conn.scalar(text("SELECT thread_id()"))
            assert threading.active_count() == threads_before
    finally:
        await engine.dispose()
    assert ran_on == threading.get_ident()


async def test_sql_errors_reach_the_caller_and_the_connection_stays_usable(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (2)"))
                await conn.execute(text("INSERT INTO t VALUES (1)"))
        async with engine.connect() as conn:
            # The failed transaction was rolled back whole: 2 is not there either.
            assert (await conn.execute(text("SELECT id FROM t"))).scalars().all() == [1]
    finally:
        await engine.dispose()


async def test_dispose_closes_the_sqlite_connection(url: str) -> None:
    engine = make_engine(url)
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert isinstance(driver, InlineConnection)
        sqlite_connection = driver._conn
    await engine.dispose()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        sqlite_connection.execute("SELECT 1")
