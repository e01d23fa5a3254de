"""Openids bound to persons: bind, move to another person, look up both ways, unbind."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.wechat_openids import (
    bind_openid,
    openid_for_person,
    person_for_openid,
    unbind_person,
)
from tests.storage.conftest import T0, later, make_person


async def test_bound_openid_names_the_person_and_the_latest_wins(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    alice = await make_person(sessionmaker, 1)
    async with sessionmaker.begin() as db:
        assert await openid_for_person(db, alice.id) is None
        await bind_openid(db, "o-first", alice.id, T0)
        await bind_openid(db, "o-second", alice.id, later(5))
    async with sessionmaker() as db:
        assert await openid_for_person(db, alice.id) == "o-second"
        found = await person_for_openid(db, "o-first")
        assert found is not None and found.id == alice.id
        assert await person_for_openid(db, "o-unknown") is None


async def test_an_openid_moves_to_whoever_signed_in_with_it_last(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    alice = await make_person(sessionmaker, 1)
    bob = await make_person(sessionmaker, 2)
    async with sessionmaker.begin() as db:
        await bind_openid(db, "o-shared", alice.id, T0)
        await bind_openid(db, "o-shared", bob.id, later(1))
    async with sessionmaker() as db:
        found = await person_for_openid(db, "o-shared")
        assert found is not None and found.id == bob.id
        assert await openid_for_person(db, alice.id) is None


async def test_unbinding_forgets_every_openid_of_the_person(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    alice = await make_person(sessionmaker, 1)
    bob = await make_person(sessionmaker, 2)
    async with sessionmaker.begin() as db:
        await bind_openid(db, "o-a1", alice.id, T0)
        await bind_openid(db, "o-a2", alice.id, T0)
        await bind_openid(db, "o-b", bob.id, T0)
    async with sessionmaker.begin() as db:
        assert await unbind_person(db, alice.id) == 2
        assert await unbind_person(db, alice.id) == 0
    async with sessionmaker() as db:
        assert await openid_for_person(db, alice.id) is None
        assert await openid_for_person(db, bob.id) == "o-b"
