"""SQLite writers take turns through the write gate: in arrival order, across processes."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import storage.db
from storage.db import (
    begin_read_only,
    make_engine,
    make_sessionmaker,
    upgrade_database,
    write_gate_path,
)
from storage.persons import get_person
from storage.write_gate import WriteGate
from tests.storage.conftest import make_person

# Another process that takes the gate, as the API's and the worker's processes do, then (with
# a database argument) SQLite's write lock as well, and keeps both until told to let go.
HOLDER = """
import fcntl, os, sqlite3, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
if len(sys.argv) > 2:
    db = sqlite3.connect(sys.argv[2], isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
print("held", flush=True)
sys.stdin.readline()
if len(sys.argv) > 2:
    db.execute("ROLLBACK")
"""


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only (overrides conftest's): PostgreSQL has no file-wide write lock, no gate."""
    return f"sqlite+aiosqlite:///{tmp_path / 'shebao.db'}"


@asynccontextmanager
async def gate_held_elsewhere(url: str, *, writing: bool = False) -> AsyncIterator[None]:
    """Another process holds the gate (and, `writing`, SQLite's write lock too)."""
    path = write_gate_path(url)
    assert path is not None
    database = [str(path.with_suffix(""))] if writing else []
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        HOLDER,
        str(path),
        *database,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert await holder.stdout.readline() == b"held\n"
        yield
    finally:
        holder.stdin.write(b"go\n")
        await holder.stdin.drain()
        await holder.wait()


async def rename(sessions: async_sessionmaker[AsyncSession], person_id: str, city: str) -> None:
    async with sessions.begin() as session:
        person = await get_person(session, person_id)
        assert person is not None
        person.city = city


async def write_without_commit(session: AsyncSession, person_id: str) -> None:
    """Change the person's city and flush it, leaving the transaction open."""
    mine = await get_person(session, person_id)
    assert mine is not None
    mine.city = "遵义"
    await session.flush()


async def gate_is_free(sessions: async_sessionmaker[AsyncSession], person_id: str) -> None:
    """Nothing stayed held: the next write goes through."""
    await asyncio.wait_for(rename(sessions, person_id, "安顺"), timeout=10)
    assert await city_of(sessions, person_id) == "安顺"


async def city_of(sessions: async_sessionmaker[AsyncSession], person_id: str) -> str:
    async with sessions() as session:
        await begin_read_only(session)
        person = await get_person(session, person_id)
        assert person is not None and person.city is not None
        return person.city


async def test_a_writer_waits_while_another_process_holds_the_gate_then_writes(
    db_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    person = await make_person(sessionmaker)
    async with gate_held_elsewhere(db_url):
        write = asyncio.create_task(rename(sessionmaker, person.id, "遵义"))
        done, _ = await asyncio.wait({write}, timeout=0.5)
        assert not done, "wrote while another process held the gate"
        # Readers do not queue for the gate: they read the last committed state meanwhile.
        assert await city_of(sessionmaker, person.id) == "贵阳"
    await asyncio.wait_for(write, timeout=10)
    assert await city_of(sessionmaker, person.id) == "遵义"


async def test_writers_of_one_process_take_turns_in_arrival_order(
    db_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    person = await make_person(sessionmaker)
    order: list[int] = []

    async def write(n: int) -> None:
        async with sessionmaker.begin() as session:
            mine = await get_person(session, person.id)
            assert mine is not None
            order.append(n)
            mine.city = f"城{n}"

    # SQLite alone would let them retry on its own schedule (sleeps of 1 ms up to 100 ms), in
    # which a late arrival polling often overtakes an early one sleeping long.
    async with gate_held_elsewhere(db_url, writing=True):
        writers = []
        for n in range(8):
            writers.append(asyncio.create_task(write(n)))
            await asyncio.sleep(0.02)  # each one queued before the next arrives
    await asyncio.wait_for(asyncio.gather(*writers), timeout=10)
    assert order == list(range(8))
    assert await city_of(sessionmaker, person.id) == "城7"


async def test_waiting_past_the_busy_timeout_fails_as_database_is_locked(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage.db, "SQLITE_BUSY_TIMEOUT_MS", 300)
    await upgrade_database(db_url)
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        person = await make_person(sessions)
        async with gate_held_elsewhere(db_url):
            with pytest.raises(OperationalError) as caught:
                await rename(sessions, person.id, "遵义")
        # The same error SQLite's own busy timeout gives, so the API answers 503 for both.
        assert getattr(caught.value.orig, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY
        assert "locked" in str(caught.value.orig)
        await gate_is_free(sessions, person.id)
    finally:
        await engine.dispose()


async def test_a_writer_cancelled_while_waiting_leaves_the_gate_usable(
    db_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    person = await make_person(sessionmaker)
    async with gate_held_elsewhere(db_url):
        waiting = asyncio.create_task(rename(sessionmaker, person.id, "遵义"))
        await asyncio.sleep(0.2)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    await gate_is_free(sessionmaker, person.id)


async def test_a_transaction_that_fails_gives_the_gate_back(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker)
    with pytest.raises(RuntimeError):
        async with sessionmaker.begin() as session:
            await write_without_commit(session, person.id)
            raise RuntimeError("a bug halfway through")
    await gate_is_free(sessionmaker, person.id)


async def test_a_writer_cancelled_inside_its_transaction_gives_the_gate_back(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker)
    inside = asyncio.Event()

    async def stuck() -> None:
        async with sessionmaker.begin() as session:
            await write_without_commit(session, person.id)
            inside.set()
            await asyncio.Event().wait()  # e.g. an activity cancelled mid-step

    task = asyncio.create_task(stuck())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await gate_is_free(sessionmaker, person.id)


async def test_the_gate_given_back_from_another_thread_wakes_the_next_writer(
    request: pytest.FixtureRequest,
) -> None:
    # The garbage collector may clean up an abandoned connection in a driver's thread.
    loop = asyncio.get_running_loop()
    debug = loop.get_debug()
    loop.set_debug(True)  # asyncio then refuses calls into the loop from other threads
    request.addfinalizer(lambda: loop.set_debug(debug))
    gate = WriteGate(None, timeout_s=5)
    await gate.acquire()
    second = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0.05)
    assert not second.done()
    await asyncio.to_thread(gate.release)
    await asyncio.wait_for(second, timeout=5)
    gate.release()
