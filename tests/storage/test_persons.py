"""Persons and registrations."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.vocabulary import IdType, Insurance, Sex
from storage.errors import Conflict
from storage.models import REGISTRATION_SUSPENDED
from storage.persons import (
    add_person,
    find_person,
    find_person_by_payer_ref,
    get_person,
    get_registration,
    list_registrations,
    upsert_registration,
)
from tests.storage.conftest import T0, make_person


async def test_adding_a_known_person_returns_the_existing_one_unchanged(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    first = await make_person(sessionmaker, 7)
    async with sessionmaker.begin() as session:
        again = await add_person(
            session,
            id_type=IdType.RESIDENT_ID,
            id_number="520101199001010007",
            name="另一个名字",
            birth_date=None,
            sex=None,
            payer_ref=first.payer_ref,
            at=T0,
        )
    assert again.id == first.id
    async with sessionmaker() as session:
        stored = await get_person(session, first.id)
    assert stored is not None
    assert (stored.name, stored.birth_date, stored.sex) == ("测试7", date(1990, 1, 1), Sex.MALE)


async def test_a_person_is_found_by_id_document_and_by_payer_ref(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker, 3)
    async with sessionmaker() as session:
        by_id = await find_person(session, IdType.RESIDENT_ID, "520101199001010003")
        by_ref = await find_person_by_payer_ref(session, person.payer_ref)
        other_type = await find_person(session, IdType.PASSPORT, "520101199001010003")
    assert by_id is not None and by_ref is not None
    assert by_id.id == by_ref.id == person.id
    assert other_type is None


async def test_a_payer_ref_cannot_belong_to_two_people(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker, 1)
    with pytest.raises(Conflict):
        async with sessionmaker.begin() as session:
            await add_person(
                session,
                id_type=IdType.PASSPORT,
                id_number="E12345678",
                name="Test Person",
                birth_date=None,
                sex=None,
                payer_ref=person.payer_ref,
                at=T0,
            )


async def test_person_repr_shows_no_personal_data(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker, 5)
    assert "测试" not in repr(person) and "5201" not in repr(person)


async def test_registration_upsert_updates_the_existing_registration(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker, start_month="2026-01")
    async with sessionmaker.begin() as session:
        await upsert_registration(
            session,
            person_id=person.id,
            insurance=Insurance.PENSION,
            start_month="2025-07",
            status=REGISTRATION_SUSPENDED,
            at=T0,
        )
    async with sessionmaker() as session:
        registration = await get_registration(session, person.id, Insurance.PENSION)
        registrations = await list_registrations(session, person.id)
    assert registration is not None
    assert (registration.start_month, registration.status) == ("2025-07", "suspended")
    assert [r.id for r in registrations] == [registration.id]
