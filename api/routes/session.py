"""POST /api/v1/session: sign in with the identity trio (用户认证); DELETE: sign out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from api.auth import CurrentPerson, PayerToken
from api.middleware.rate_limit import rate_limit
from api.openapi import IDENTITY, RATE_LIMITED, SIGNED_IN, VALIDATION, errors
from api.state import State
from api.wechat_cookies import OpenIdCookieValue
from services.people import IdentityBody, PersonOut
from services.sessions import sign_out as sign_out_service
from services.wechat import is_bound, silent_sign_in, unbind
from services.wechat import sign_in as sign_in_service

router = APIRouter(prefix="/api/v1")


class SessionOut(BaseModel):
    token: str
    person: PersonOut


# Per client address here; per identity (failures only, then a captcha) in the service.
@router.post(
    "/session",
    response_model=SessionOut,
    dependencies=[Depends(rate_limit("sign_in"))],
    tags=["sessions"],
    responses=errors(VALIDATION, RATE_LIMITED, *IDENTITY),
)
async def sign_in(body: IdentityBody, state: State, wx: OpenIdCookieValue = None) -> SessionOut:
    """200 {token, person}; 422 for a bad format; 401 IDENTITY_MISMATCH for any mismatch;
    428 CAPTCHA_REQUIRED after repeated failures for the identity. Inside WeChat, the browser's
    openid is bound to the person."""
    token, shown = await sign_in_service(state, body, wx)
    return SessionOut(token=token, person=shown)


@router.post(
    "/session/wechat",
    response_model=SessionOut,
    dependencies=[Depends(rate_limit("sign_in"))],
    tags=["wechat"],
    responses=errors(VALIDATION, RATE_LIMITED, (404, "WECHAT_NOT_BOUND")),
)
async def sign_in_by_wechat(state: State, wx: OpenIdCookieValue = None) -> SessionOut:
    """Inside WeChat: 200 {token, person} for the person this browser's openid is bound to;
    404 WECHAT_NOT_BOUND otherwise (the payer signs in with the trio)."""
    token, shown = await silent_sign_in(state, wx)
    return SessionOut(token=token, person=shown)


class BindingOut(BaseModel):
    bound: bool


@router.get(
    "/wechat/binding", response_model=BindingOut, tags=["wechat"], responses=errors(SIGNED_IN)
)
async def wechat_binding(state: State, me: CurrentPerson) -> BindingOut:
    """Whether a WeChat account is bound to the signed-in person."""
    return BindingOut(bound=await is_bound(state, me))


@router.delete(
    "/wechat/binding",
    status_code=204,
    response_class=Response,
    response_model=None,
    tags=["wechat"],
    responses=errors(SIGNED_IN),
)
async def wechat_unbind(state: State, me: CurrentPerson) -> Response:
    """Unbind every WeChat account of the signed-in person (204, also when none was bound)."""
    await unbind(state, me)
    return Response(status_code=204)


@router.delete(
    "/session",
    status_code=204,
    response_class=Response,
    response_model=None,
    tags=["sessions"],
    responses=errors(),
)
async def sign_out(state: State, token: PayerToken) -> Response:
    """204 whether or not the token was live: signing out twice is not an error."""
    await sign_out_service(state, token)
    return Response(status_code=204)
