"""Contributions: start (idempotent, update-with-start), status page data, cancel before payment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.auth import CurrentPerson
from api.middleware.rate_limit import client_ip
from api.openapi import SIGNED_IN, VALIDATION, errors
from api.routes.quotes import QUOTE_REFUSALS
from api.state import State
from api.wechat_cookies import OpenIdCookieValue
from domain.vocabulary import Channel, ContributionStatus
from services.contribution_cancel import cancel_contribution
from services.contribution_start import PayerDevice, start_contribution
from services.contribution_view import ContributionOut, load_contribution
from services.timefmt import LocalDateTime

router = APIRouter(prefix="/api/v1/contributions", tags=["contributions"])


class StartIn(BaseModel):
    quote_id: str = Field(max_length=64)
    channel: Channel


class JsapiOut(BaseModel):
    """What the WeChat page passes to WeixinJSBridge getBrandWCPayRequest (signed)."""

    # WeChat's names, as WeixinJSBridge takes them.
    appId: str
    timeStamp: str
    nonceStr: str
    package: str
    signType: str
    paySign: str


class StartPaymentOut(BaseModel):
    out_trade_no: str
    cashier_url: str | None
    expires_at: LocalDateTime
    # Absent when a late replay answers from storage.
    prepay_id: str | None = None
    # Inside WeChat only (an openid from 网页授权): a JSAPI order.
    jsapi: JsapiOut | None = None


class StartOut(BaseModel):
    contribution_id: str
    status: ContributionStatus
    total_fen: int
    payment: StartPaymentOut


# What a start can be refused with besides the quote's own refusals (services/contribution_start).
START_REFUSALS = (
    (404, "QUOTE_NOT_FOUND"),
    (422, "IDEMPOTENCY_KEY_REQUIRED"),
    (422, "IDEMPOTENCY_KEY_INVALID"),
    (422, "IDEMPOTENCY_KEY_REUSED"),
    (422, "QUOTE_EXPIRED"),
    (422, "QUOTE_CHANGED"),
    (409, "MONTH_IN_FLIGHT"),
    (409, "ALREADY_PAID"),
    (409, "ALREADY_FINISHED"),
    (409, "CANCELLED"),
    (409, "EXPIRED"),
    (502, "PAYMENT_CHANNEL_REFUSED"),
)
NOT_FOUND = (404, "CONTRIBUTION_NOT_FOUND")


# The body is the stored answer of the key (replayed as it was), so it is returned as stored;
# response_model documents it and tests/api hold the answers to it.
@router.post(
    "",
    status_code=201,
    response_model=StartOut,
    responses=errors(
        VALIDATION, SIGNED_IN, *START_REFUSALS, *((422, code) for code in QUOTE_REFUSALS)
    ),
)
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


@router.get(
    "/{contribution_id}",
    response_model=ContributionOut,
    responses=errors(VALIDATION, SIGNED_IN, NOT_FOUND),
)
async def get_contribution(
    contribution_id: str, state: State, me: CurrentPerson
) -> ContributionOut:
    return await load_contribution(state, contribution_id, me)


@router.post(
    "/{contribution_id}/cancel",
    response_model=ContributionOut,
    responses=errors(
        VALIDATION, SIGNED_IN, NOT_FOUND, (409, "ALREADY_PAID"), (409, "ALREADY_FINISHED")
    ),
)
async def cancel(contribution_id: str, state: State, me: CurrentPerson) -> ContributionOut:
    """Before payment only: 409 ALREADY_PAID after, 409 ALREADY_FINISHED once ended."""
    return await cancel_contribution(state, contribution_id, me)
