"""Read-only sessions read a snapshot while a writer holds the lock, instead of queueing."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import begin_read_only
from storage.persons import get_person
from tests.storage.conftest import make_person


async def test_read_only_session_reads_while_a_writer_holds_the_lock(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker)
    async with sessionmaker.begin() as writer:
        # The writer has written and not committed: on SQLite it holds the write lock, and an
        # IMMEDIATE reader would wait out busy_timeout and fail with "database is locked".
        mine = await get_person(writer, person.id)
        assert mine is not None
        mine.city = "遵义"
        await writer.flush()
        async with sessionmaker() as reader:
            await begin_read_only(reader)
            seen = await get_person(reader, person.id)
        assert seen is not None
        assert seen.city == "贵阳"  # the last committed state, not the writer's
    async with sessionmaker() as reader:
        await begin_read_only(reader)
        after = await get_person(reader, person.id)
    assert after is not None and after.city == "遵义"
