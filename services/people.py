"""Who is who: the identity trio (证件类型, 号码, 姓名), matching it, and masked person views."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from domain.identity import mask_id, mask_name, normalize_name, validate_id
from services import identity_budget
from services.context import AppState
from services.errors import ServiceError
from storage import persons
from storage.models import Person, Registration

ME = "me"

# Generous bounds: the domain validates formats; these only stop absurd payloads early.
MAX_ID_TEXT = 64
MAX_NAME_TEXT = 200


class IdentityBody(BaseModel):
    """The trio a payer types; formats are checked by domain.identity, not here."""

    id_type: str = Field(max_length=MAX_ID_TEXT)
    id_number: str = Field(max_length=MAX_ID_TEXT)
    name: str = Field(max_length=MAX_NAME_TEXT)
    # Asked for only once the identity's budget of failures is spent (428 CAPTCHA_REQUIRED).
    captcha_id: str | None = Field(default=None, max_length=MAX_ID_TEXT)
    captcha_answer: str | None = Field(default=None, max_length=MAX_ID_TEXT)


class RegistrationOut(BaseModel):
    insurance: str
    start_month: str
    status: str


class PersonOut(BaseModel):
    """A person as payers see them: masked number and name."""

    payer_ref: str
    id_type: str
    id_number_masked: str
    name_masked: str
    registrations: list[RegistrationOut] = []


def registrations_out(rows: Iterable[Registration]) -> list[RegistrationOut]:
    return [
        RegistrationOut(insurance=r.insurance.value, start_month=r.start_month, status=r.status)
        for r in rows
    ]


def identity_mismatch() -> ServiceError:
    # The same answer whichever field is wrong: never reveal which part matched.
    return ServiceError(401, "IDENTITY_MISMATCH", "证件信息与参保登记信息不一致", None)


def payer_not_found() -> ServiceError:
    return ServiceError(404, "PAYER_NOT_FOUND", "未找到缴费人", "payer_ref")


async def identify(state: AppState, body: IdentityBody) -> Person:
    """The registered person the trio names; 422 for a bad format, 401 for any mismatch.

    Every caller that takes a trio comes here, so the identity's budget of failures
    (services/identity_budget.py) guards sign-in, lookup and records alike.
    """
    ident = validate_id(body.id_type, body.id_number)
    name = normalize_name(body.name)
    await identity_budget.admit(state, ident, body.captcha_id, body.captcha_answer)
    async with state.sessions() as db:
        person = await persons.find_person(db, ident.id_type, ident.number)
    if person is None or not hmac.compare_digest(person.name.encode(), name.encode()):
        raise identity_mismatch()
    await identity_budget.succeeded(state, ident)
    return person


async def look_up(state: AppState, body: IdentityBody) -> tuple[Person, PersonOut]:
    """The person the trio names and how they are shown (sign-in, 代他人缴费)."""
    person = await identify(state, body)
    async with state.sessions() as db:
        return person, await person_out(db, person)


async def person_out(session: AsyncSession, person: Person) -> PersonOut:
    registrations = await persons.list_registrations(session, person.id)
    return PersonOut(
        payer_ref=person.payer_ref,
        id_type=person.id_type.value,
        id_number_masked=mask_id(person.id_number),
        name_masked=mask_name(person.name),
        registrations=registrations_out(registrations),
    )


async def resolve_payer(session: AsyncSession, payer_ref: str, me: Person) -> Person:
    """`me` is the signed-in person; any other value is a PayerRef (404 PAYER_NOT_FOUND)."""
    if payer_ref == ME or payer_ref == me.payer_ref:
        return me
    if len(payer_ref) > MAX_ID_TEXT:
        raise payer_not_found()
    person = await persons.find_person_by_payer_ref(session, payer_ref)
    if person is None:
        raise payer_not_found()
    return person
