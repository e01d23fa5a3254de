"""Finding an issued certificate: by its owner, or by anyone holding its verify code."""

from __future__ import annotations

from domain.certificate import is_certificate_no, verify_code_matches
from domain.identity import mask_id, mask_name
from services.context import AppState
from services.errors import ServiceError
from storage import certificates, persons
from storage.models import Certificate, Person


def certificate_not_found() -> ServiceError:
    # One answer for an unknown number and a wrong code: the caller learns nothing else.
    return ServiceError(
        404,
        "CERTIFICATE_NOT_FOUND",
        "未查询到该完税证明，请核对证明编号和验证码",
        None,
        valid=False,
    )


async def _load(state: AppState, certificate_no: str) -> Certificate:
    if not is_certificate_no(certificate_no):
        raise certificate_not_found()
    async with state.sessions() as db:
        found = await certificates.get_certificate(db, certificate_no)
    if found is None:
        raise certificate_not_found()
    return found


async def owned_certificate(state: AppState, certificate_no: str, owner: Person) -> Certificate:
    """The certificate if it was issued to owner; 404 otherwise."""
    found = await _load(state, certificate_no)
    if found.person_id != owner.id:
        raise certificate_not_found()
    return found


async def certificate_with_code(state: AppState, certificate_no: str, code: str) -> Certificate:
    """The certificate if the code is its verify code; 404 otherwise."""
    found = await _load(state, certificate_no)
    if not verify_code_matches(code, found.verify_code_hash):
        raise certificate_not_found()
    return found


async def verified(state: AppState, certificate_no: str, code: str) -> tuple[Certificate, str, str]:
    """The public check: the certificate, its payer's masked name and masked id number."""
    found = await certificate_with_code(state, certificate_no, code)
    async with state.sessions() as db:
        person = await persons.get_person(db, found.person_id)
    if person is None:
        return found, "", ""
    return found, mask_name(person.name), mask_id(person.id_number)
