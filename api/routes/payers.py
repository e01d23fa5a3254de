"""Payers: look up another person (代他人缴费) and what a payer may pay (缴费信息确认)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from api.auth import CurrentPerson
from api.middleware.rate_limit import rate_limit
from api.openapi import IDENTITY, RATE_LIMITED, SIGNED_IN, VALIDATION, errors
from api.state import State
from domain.vocabulary import Insurance
from services.options import PayerOptions, options_for
from services.people import IdentityBody, PersonOut, look_up

router = APIRouter(prefix="/api/v1/payers", tags=["payers"])


class LookupOut(BaseModel):
    payer_ref: str
    person: PersonOut


@router.post(
    "/lookup",
    response_model=LookupOut,
    dependencies=[Depends(rate_limit("payer_lookup"))],
    responses=errors(VALIDATION, SIGNED_IN, RATE_LIMITED, *IDENTITY),
)
async def lookup(body: IdentityBody, state: State, me: CurrentPerson) -> LookupOut:
    """The person to pay for; the same 422/401 answers as sign-in."""
    person, shown = await look_up(state, body)
    return LookupOut(payer_ref=person.payer_ref, person=shown)


@router.get(
    "/{payer_ref}/options",
    response_model=PayerOptions,
    responses=errors(VALIDATION, SIGNED_IN, (404, "PAYER_NOT_FOUND"), (422, "POLICY_MISSING")),
)
async def options(
    payer_ref: str, state: State, me: CurrentPerson, insurance: Insurance = Insurance.PENSION
) -> PayerOptions:
    """Registrations, open months, prepayment, arrears, grades and the year's policy flags, for
    one insurance (`?insurance=resident_medical`: the coverage year open for payment)."""
    return await options_for(state, me, payer_ref, insurance)
