"""POST /api/v1/payments/{provider}/notify: verified, de-duplicated callbacks of any provider.

Each provider's package names its path (WeChat Pay: /api/v1/payments/wechatpay/notify) and
verifies its callbacks; the answers are WeChat Pay's, which the others accept as well.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from adapters.payments.interface import CallbackRejected, VerifiedCallback
from api.errors import ErrorEnvelope
from api.openapi import COMMON_ERRORS
from api.state import State
from services.context import AppState
from services.errors import log_unexpected
from services.notifications import Intake, intake_callback

router = APIRouter(tags=["payments"])
log = logging.getLogger("shebao.api.payment_notify")

# WeChat counts an answer after 5 s as a failure; leave room for the network (the strictest
# provider sets the budget for all).
PROCESSING_BUDGET_S = 4.0


class NotifyFail(BaseModel):
    """WeChat Pay's failure answer, which its servers read: the provider retries later."""

    code: Literal["FAIL"]
    message: str


def _fail(status: int, message: str) -> JSONResponse:
    """The failure answer (WeChat's shape): the provider retries on its schedule."""
    return JSONResponse(NotifyFail(code="FAIL", message=message).model_dump(), status_code=status)


def _refusals() -> dict[int | str, dict[str, Any]]:
    """The route's own refusals wear WeChat's shape; the request limits in front of every route
    (a bad Content-Length, a body too large, an error escaping the route) wear the envelope."""
    route_own = {400, 401, 404, 500, 503}
    # 422 only as FastAPI would answer a bad path parameter; `provider` is any segment.
    statuses = sorted(route_own | {422} | {status for status, _code in COMMON_ERRORS})
    described = {
        400: "FAIL: 通知内容与商户不符 / 订单金额不符; BAD_REQUEST, INVALID_JSON",
        401: "FAIL: 签名验证失败 (forged or stale)",
        404: "FAIL: no provider of that name takes callbacks here",
        413: "PAYLOAD_TOO_LARGE",
        422: "VALIDATION_ERROR",
        500: "FAIL: 处理失败, retried by the provider; INTERNAL_ERROR",
        503: "FAIL: 系统繁忙 / 处理超时, retried by the provider; SERVICE_UNAVAILABLE",
    }
    return {
        status: {
            "model": (NotifyFail | ErrorEnvelope) if status in route_own else ErrorEnvelope,
            "description": described[status],
        }
        for status in statuses
    }


@router.post(
    "/api/v1/payments/{provider}/notify",
    status_code=204,
    response_class=Response,
    response_model=None,
    responses={204: {"description": "Handled, or handled before"}, **_refusals()},
)
async def payment_notify(provider: str, request: Request, state: State) -> Response:
    """204 once handled (or already handled); 401 forged/stale; 400 not ours; 5xx retry later;
    404 when no provider of that name takes callbacks here."""
    registered = state.adapters.payments.find(provider) if state.adapters is not None else None
    verifier = registered.callbacks if registered is not None else None
    if verifier is None:
        return _fail(404, "未启用该支付渠道")
    body = await request.body()
    try:
        verified = verifier.verify(request.headers, body)
    except CallbackRejected as rejected:
        # Probes and replays are expected traffic: a warning, without the body.
        log.warning("callback rejected: %s", rejected.reason)
        message = "签名验证失败" if rejected.status == 401 else "通知内容与商户不符"
        return _fail(rejected.status, message)
    n = verified.notification
    try:
        return await asyncio.wait_for(_process(state, verified), PROCESSING_BUDGET_S)
    except TimeoutError:
        log.warning("callback %s not processed within %.0f s", n.event_id, PROCESSING_BUDGET_S)
        return _fail(503, "处理超时")
    except Exception as exc:
        # A database or Temporal hiccup: WeChat retries on its schedule.
        log_unexpected(exc, "payment notify")
        return _fail(500, "处理失败")


_ANSWERS: dict[Intake, tuple[int, str]] = {
    Intake.ORDER_TOTAL_MISMATCH: (400, "订单金额不符"),
    Intake.TEMPORAL_UNAVAILABLE: (503, "系统繁忙"),
    Intake.RETRY_LATER: (503, "暂时无法处理"),
}


async def _process(state: AppState, verified: VerifiedCallback) -> Response:
    outcome = await intake_callback(state, verified.notification, verified.order_total_fen)
    if outcome in _ANSWERS:
        return _fail(*_ANSWERS[outcome])
    return Response(status_code=204)
