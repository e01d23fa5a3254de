"""GET /api/v1/captcha: a captcha image for the certificate query (完税证明查询)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from api.middleware.rate_limit import rate_limit
from api.openapi import RATE_LIMITED, errors
from api.state import State
from services.captchas import issue
from services.timefmt import LocalDateTime

router = APIRouter(prefix="/api/v1", tags=["captcha"])


class CaptchaOut(BaseModel):
    captcha_id: str
    image: str
    expires_at: LocalDateTime


@router.get(
    "/captcha",
    response_model=CaptchaOut,
    dependencies=[Depends(rate_limit("captcha"))],
    responses=errors(RATE_LIMITED, (429, "TOO_MANY_REQUESTS")),
)
async def new_captcha(request: Request, state: State) -> CaptchaOut:
    """{captcha_id, image (PNG data URL), expires_at}; 429 when one client asks too often."""
    client_ip = request.client.host if request.client is not None else "unknown"
    issued = await issue(state, client_ip)
    return CaptchaOut(
        captcha_id=issued.captcha_id, image=issued.image, expires_at=issued.expires_at
    )
