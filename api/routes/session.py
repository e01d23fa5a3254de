"""POST /api/v1/session: sign in with the identity trio (用户认证); DELETE: sign out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from api.auth import AuthorizationHeader, bearer
from api.middleware.rate_limit import rate_limit
from api.state import State
from services.people import IdentityBody, PersonOut
from services.sessions import sign_in as sign_in_service
from services.sessions import sign_out as sign_out_service

router = APIRouter(prefix="/api/v1", tags=["payer"])


class SessionOut(BaseModel):
    token: str
    person: PersonOut


# Per client address here; per identity (failures only, then a captcha) in the service.
@router.post(
    "/session",
    response_model=SessionOut,
    dependencies=[Depends(rate_limit("sign_in"))],
)
async def sign_in(body: IdentityBody, state: State) -> SessionOut:
    """200 {token, person}; 422 for a bad format; 401 IDENTITY_MISMATCH for any mismatch;
    428 CAPTCHA_REQUIRED after repeated failures for the identity."""
    token, shown = await sign_in_service(state, body)
    return SessionOut(token=token, person=shown)


@router.delete("/session", status_code=204, response_class=Response, response_model=None)
async def sign_out(state: State, authorization: AuthorizationHeader = None) -> Response:
    """204 whether or not the token was live: signing out twice is not an error."""
    await sign_out_service(state, bearer(authorization))
    return Response(status_code=204)
