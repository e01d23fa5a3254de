"""Contributions: start (idempotent, update-with-start), status page data, cancel before payment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.auth import CurrentPerson
from api.middleware.rate_limit import client_ip
from api.state import State
from api.wechat_cookies import OpenIdCookieValue
from domain.vocabulary import Channel
from services.contribution_cancel import cancel_contribution
from services.contribution_start import PayerDevice, start_contribution
from services.contribution_view import ContributionOut, load_contribution

router = APIRouter(prefix="/api/v1/contributions", tags=["payer"])


class StartIn(BaseModel):
    quote_id: str = Field(max_length=64)
    channel: Channel


@router.post("", status_code=201)
async def start(
    body: StartIn,
    state: State,
    me: CurrentPerson,
    request: Request,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    wx: OpenIdCookieValue = None,
) -> JSONResponse:
    """201 {contribution_id, status, payment}; same key and body → the same answer. Inside
    WeChat (an openid from 网页授权) a JSAPI order: payment.jsapi for WeixinJSBridge."""
    device = PayerDevice(openid_cookie=wx, client_ip=client_ip(request))
    status, payload = await start_contribution(
        state, me, idempotency_key, body.quote_id, body.channel, device
    )
    return JSONResponse(payload, status_code=status)


@router.get("/{contribution_id}", response_model=ContributionOut)
async def get_contribution(
    contribution_id: str, state: State, me: CurrentPerson
) -> ContributionOut:
    return await load_contribution(state, contribution_id, me)


@router.post("/{contribution_id}/cancel", response_model=ContributionOut)
async def cancel(contribution_id: str, state: State, me: CurrentPerson) -> ContributionOut:
    """Before payment only: 409 ALREADY_PAID after, 409 ALREADY_FINISHED once ended."""
    return await cancel_contribution(state, contribution_id, me)
