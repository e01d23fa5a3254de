"""The gateway plays the 公众号 API too: access tokens, template messages, and a list of them."""

from __future__ import annotations

import secrets
import time
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ValidationError

from adapters.mp_messages.interface import TemplateMessage
from simulators.mp_messages import MessageSimulator

TOKEN_TTL_S = 7200
# WeChat's codes for what the gateway refuses.
INVALID_CREDENTIAL = 40001
INVALID_APPSECRET = 40125
INVALID_APPID = 40013
INVALID_OPENID = 40003
INVALID_TEMPLATE = 40037
BAD_JSON = 47001


class _Field(BaseModel):
    value: str


class _TemplateSend(BaseModel):
    touser: str
    template_id: str
    url: str = ""
    data: dict[str, _Field] = {}


def _error(code: int, message: str) -> dict[str, Any]:
    return {"errcode": code, "errmsg": message}


def mp_router(appid: str, secret: str, messages: MessageSimulator) -> APIRouter:
    """/cgi-bin/token, /cgi-bin/message/template/send and GET /sim/wechat/messages."""
    router = APIRouter()
    tokens: dict[str, float] = {}

    @router.get("/cgi-bin/token")
    async def token(
        grant_type: str = "",
        appid_in: str = Query("", alias="appid"),
        secret_in: str = Query("", alias="secret"),
    ) -> dict[str, Any]:
        if grant_type != "client_credential" or appid_in != appid:
            return _error(INVALID_APPID, "invalid appid")
        if not secrets.compare_digest(secret_in, secret):
            return _error(INVALID_APPSECRET, "invalid appsecret")
        issued = secrets.token_urlsafe(24)
        tokens[issued] = time.monotonic() + TOKEN_TTL_S
        return {"access_token": issued, "expires_in": TOKEN_TTL_S}

    @router.post("/cgi-bin/message/template/send")
    async def template_send(request: Request, access_token: str = "") -> dict[str, Any]:
        if tokens.get(access_token, 0.0) < time.monotonic():
            return _error(INVALID_CREDENTIAL, "invalid credential, access_token is invalid")
        try:
            body = _TemplateSend.model_validate_json(await request.body())
        except ValidationError:
            return _error(BAD_JSON, "data format error")
        if not body.touser:
            return _error(INVALID_OPENID, "invalid openid")
        if not body.template_id:
            return _error(INVALID_TEMPLATE, "invalid template_id")
        msgid = await messages.send(
            TemplateMessage(
                openid=body.touser,
                template_id=body.template_id,
                url=body.url,
                data={name: f.value for name, f in body.data.items()},
            )
        )
        return {"errcode": 0, "errmsg": "ok", "msgid": int(msgid)}

    @router.get("/sim/wechat/messages")
    async def received(openid: str | None = Query(None, max_length=128)) -> list[dict[str, Any]]:
        """What the 公众号 was asked to send (to one openid), newest first."""
        return await messages.received(openid)

    return router
