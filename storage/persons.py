"""Persons (参保人) and their registrations (参保登记)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.vocabulary import IdType, Insurance, Sex
from storage._sql import insert_ignore
from storage.errors import Conflict, NotFound
from storage.models import REGISTRATION_ACTIVE, Person, Registration, new_person_id


async def add_person(
    session: AsyncSession,
    *,
    id_type: IdType,
    id_number: str,
    name: str,
    birth_date: date | None,
    sex: Sex | None,
    payer_ref: str,
    city: str | None = None,
    women_original_age: int | None = None,
    at: datetime | None = None,
) -> Person:
    """Add a person, or return the one already known by (id_type, id_number), unchanged.

    The caller passes the normalised name and the PayerRef derived from the ID.
    """
    await insert_ignore(
        session,
        Person,
        [
            {
                "id": new_person_id(),
                "id_type": id_type,
                "id_number": id_number,
                "name": name,
                "birth_date": birth_date,
                "sex": sex,
                "payer_ref": payer_ref,
                "city": city,
                "women_original_age": women_original_age,
                "created_at": at or datetime.now(UTC),
            }
        ],
    )
    person = await find_person(session, id_type, id_number)
    if person is None:
        # The insert collided on payer_ref alone: another ID hashed to the same PayerRef.
        raise Conflict("payer_ref already belongs to another person")
    return person


async def find_person(session: AsyncSession, id_type: IdType, id_number: str) -> Person | None:
    result = await session.execute(
        select(Person).where(Person.id_type == id_type, Person.id_number == id_number)
    )
    return result.scalar_one_or_none()


async def get_person(session: AsyncSession, person_id: str) -> Person | None:
    return await session.get(Person, person_id)


async def find_person_by_payer_ref(session: AsyncSession, payer_ref: str) -> Person | None:
    result = await session.execute(select(Person).where(Person.payer_ref == payer_ref))
    return result.scalar_one_or_none()


async def upsert_registration(
    session: AsyncSession,
    *,
    person_id: str,
    insurance: Insurance,
    start_month: str,
    status: str = REGISTRATION_ACTIVE,
    at: datetime | None = None,
) -> Registration:
    """Create the registration, or update its start month and status."""
    await insert_ignore(
        session,
        Registration,
        [
            {
                "person_id": person_id,
                "insurance": insurance,
                "start_month": start_month,
                "status": status,
                "created_at": at or datetime.now(UTC),
            }
        ],
    )
    registration = await get_registration(session, person_id, insurance)
    if registration is None:
        raise NotFound("registration", person_id)
    registration.start_month = start_month
    registration.status = status
    await session.flush()
    return registration


async def get_registration(
    session: AsyncSession, person_id: str, insurance: Insurance
) -> Registration | None:
    result = await session.execute(
        select(Registration).where(
            Registration.person_id == person_id, Registration.insurance == insurance
        )
    )
    return result.scalar_one_or_none()


async def list_registrations(session: AsyncSession, person_id: str) -> list[Registration]:
    result = await session.execute(
        select(Registration)
        .where(Registration.person_id == person_id)
        .order_by(Registration.insurance)
    )
    return list(result.scalars())
