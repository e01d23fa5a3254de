"""Seeds the demo persons of the README into the registry (idempotent): `python -m scripts.seed`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date

from domain.identity import compose_resident_id, validate_id
from domain.payer_ref import payer_ref
from domain.vocabulary import IdType, Insurance, Sex
from settings import Settings
from storage import persons
from storage.db import make_engine, make_sessionmaker, upgrade_database


@dataclass(frozen=True)
class DemoPerson:
    role: str
    id_type: IdType
    id_number: str
    name: str
    birth_date: date
    sex: Sex
    pension_start: str | None  # None: not registered for pension


DEMO_PERSONS: tuple[DemoPerson, ...] = (
    DemoPerson(
        "arrears this year (pays normally or back-pays)",
        IdType.RESIDENT_ID,
        compose_resident_id("520102", date(1988, 5, 17), 31),  # odd sequence: male
        "王㛃",
        date(1988, 5, 17),
        Sex.MALE,
        "2026-01",
    ),
    DemoPerson(
        "reaches the statutory retirement month in 2026-12 (that month is still payable)",
        IdType.RESIDENT_ID,
        compose_resident_id("520103", date(1966, 7, 15), 17),
        "李建国",
        date(1966, 7, 15),
        Sex.MALE,
        "2020-01",
    ),
    DemoPerson(
        "holder of a Hong Kong/Macau permit",
        IdType.HK_MACAO_PERMIT,
        "H12345678",
        "陈大文",
        date(1990, 3, 8),
        Sex.FEMALE,
        "2026-03",
    ),
    DemoPerson(
        "not registered for pension",
        IdType.RESIDENT_ID,
        compose_resident_id("520111", date(1995, 9, 1), 22),  # even sequence: female
        "阿依古丽·买买提",
        date(1995, 9, 1),
        Sex.FEMALE,
        None,
    ),
)


async def seed(settings: Settings) -> list[DemoPerson]:
    """Insert the demo persons and their registrations; running twice changes nothing."""
    await upgrade_database(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions.begin() as session:
            for demo in DEMO_PERSONS:
                ident = validate_id(demo.id_type, demo.id_number)
                person = await persons.add_person(
                    session,
                    id_type=demo.id_type,
                    id_number=ident.number,
                    name=demo.name,
                    birth_date=demo.birth_date,
                    sex=demo.sex,
                    payer_ref=payer_ref(settings.payer_ref_key, demo.id_type, ident.number),
                    city="贵阳市",
                )
                if demo.pension_start:
                    await persons.upsert_registration(
                        session,
                        person_id=person.id,
                        insurance=Insurance.PENSION,
                        start_month=demo.pension_start,
                    )
    finally:
        await engine.dispose()
    return list(DEMO_PERSONS)


def main() -> None:
    for demo in asyncio.run(seed(Settings())):
        print(f"  {demo.name:<10} {demo.id_type.value:<16} {demo.id_number:<20} {demo.role}")


if __name__ == "__main__":
    main()
