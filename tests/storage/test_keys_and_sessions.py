"""Idempotency keys, sign-in sessions, and what error messages may show."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.vocabulary import IdType
from storage.errors import NotFound
from storage.idempotency import claim_key, get_key, store_response
from storage.models import Person
from storage.sessions import (
    create_session,
    delete_session,
    get_live_session_person,
    purge_expired_sessions,
)
from tests.storage.conftest import T0, later, make_person


async def test_the_first_claim_of_an_idempotency_key_wins(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        first = await claim_key(
            session,
            key="k-1",
            scope="contributions.create",
            request_hash="a" * 64,
            contribution_id="c-1",
            at=later(0),
        )
        assert first.response is None and first.status_code is None
    async with sessionmaker.begin() as session:
        await store_response(session, "k-1", 202, {"contribution_id": "c-1"})
    async with sessionmaker.begin() as session:
        repeat = await claim_key(
            session,
            key="k-1",
            scope="contributions.create",
            request_hash="b" * 64,
            contribution_id="c-2",
            at=later(1),
        )
    assert (repeat.request_hash, repeat.contribution_id) == ("a" * 64, "c-1")
    assert (repeat.status_code, repeat.response) == (202, {"contribution_id": "c-1"})
    assert repeat.created_at == later(0)


async def test_concurrent_claims_of_one_key_agree_on_one_winner(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async def claim(n: int) -> str:
        async with sessionmaker.begin() as session:
            record = await claim_key(
                session,
                key="k-race",
                scope="s",
                request_hash=f"{n:064d}",
                contribution_id=f"c-{n}",
                at=later(n),
            )
            return record.request_hash

    hashes = await asyncio.gather(*(claim(n) for n in range(5)))
    assert len(set(hashes)) == 1
    async with sessionmaker() as session:
        stored = await get_key(session, "k-race")
    assert stored is not None and stored.request_hash == hashes[0]


async def test_storing_a_response_for_an_unclaimed_key_fails(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(NotFound) as error:
        async with sessionmaker.begin() as session:
            await store_response(session, "secret-client-key", 200, {})
    assert "secret-client-key" not in str(error.value)


async def test_only_unexpired_sessions_are_live(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker)
    async with sessionmaker.begin() as session:
        await create_session(
            session, token_hash="h" * 64, person_id=person.id, at=T0, expires_at=later(120)
        )
        await create_session(
            session, token_hash="old", person_id=person.id, at=T0, expires_at=later(5)
        )
    async with sessionmaker() as session:
        live = await get_live_session_person(session, "h" * 64, later(119))
        expired = await get_live_session_person(session, "h" * 64, later(120))
        unknown = await get_live_session_person(session, "x" * 64, later(1))
    assert live is not None and live[0].id == person.id and live[1] == later(120)
    assert expired is None and unknown is None
    async with sessionmaker.begin() as session:
        assert await purge_expired_sessions(session, later(60)) == 1
        await delete_session(session, "h" * 64)
        await delete_session(session, "h" * 64)
        assert await get_live_session_person(session, "h" * 64, later(1)) is None


async def test_database_errors_do_not_show_personal_data(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await make_person(sessionmaker, 9)
    with pytest.raises(IntegrityError) as error:
        async with sessionmaker.begin() as session:
            session.add(
                Person(
                    id="per_dup",
                    id_type=IdType.RESIDENT_ID,
                    id_number="520101199001010009",
                    name="测试9",
                    birth_date=None,
                    sex=None,
                    payer_ref="pr_other",
                    created_at=T0,
                )
            )
    message = str(error.value)
    assert "520101199001010009" not in message
    assert "测试9" not in message
