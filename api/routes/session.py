"""POST /api/v1/session: sign in with the identity trio (用户认证)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from api.middleware.rate_limit import rate_limit
from api.state import State
from services.people import IdentityBody, PersonOut
from services.sessions import sign_in as sign_in_service

router = APIRouter(prefix="/api/v1", tags=["payer"])


class SessionOut(BaseModel):
    token: str
    person: PersonOut


# Guessing a person's ID number must be slow: limited per client IP and per targeted number.
@router.post(
    "/session",
    response_model=SessionOut,
    dependencies=[Depends(rate_limit("sign_in", per_target=True))],
)
async def sign_in(body: IdentityBody, state: State) -> SessionOut:
    """200 {token, person}; 422 for a bad format; 401 IDENTITY_MISMATCH for any mismatch."""
    token, shown = await sign_in_service(state, body)
    return SessionOut(token=token, person=shown)
