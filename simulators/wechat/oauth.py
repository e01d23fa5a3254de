"""网页授权 as WeChat answers it: a silent snsapi_base authorisation and the code exchange.

Each browser is one WeChat user: its test openid lives in a cookie this simulator sets (a test
may set the cookie first to choose the openid), so two browsers are two payers.
"""

from __future__ import annotations

import secrets
import time
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

OPENID_COOKIE = "sim_wx_openid"
_CODE_TTL_S = 5 * 60
_MAX_CODES = 10_000
_MAX_OPENID = 64


def _new_openid() -> str:
    # WeChat's openids are 28 characters, starting with "o".
    return "o" + secrets.token_urlsafe(21)[:27]


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _error(errcode: int, errmsg: str) -> JSONResponse:
    # WeChat answers errors with HTTP 200 and an errcode.
    return JSONResponse({"errcode": errcode, "errmsg": errmsg})


def oauth_router(appid: str, secret: str, prefix: str = "") -> APIRouter:
    """/connect/oauth2/authorize and /sns/oauth2/access_token under prefix.

    Codes are single use and live five minutes, kept in this process as WeChat keeps them.
    """
    router = APIRouter(prefix=prefix, tags=["simulator"], include_in_schema=False)
    codes: dict[str, tuple[str, float]] = {}

    @router.get("/connect/oauth2/authorize", response_model=None)
    async def authorize(
        request: Request,
        appid_in: str = Query("", alias="appid"),
        redirect_uri: str = "",
        response_type: str = "",
        scope: str = "",
        state: str = "",
    ) -> Response:
        """The payer 'opens' the 公众号 page: no consent screen for snsapi_base, straight back."""
        if appid_in != appid or response_type != "code" or not redirect_uri:
            return Response("appid 或参数错误", status_code=400, media_type="text/plain")
        if scope not in ("snsapi_base", "snsapi_userinfo"):
            return Response("scope 参数错误", status_code=400, media_type="text/plain")
        if urlsplit(redirect_uri).scheme not in ("http", "https"):
            return Response("redirect_uri 参数错误", status_code=400, media_type="text/plain")
        openid = request.cookies.get(OPENID_COOKIE, "")
        if not openid or len(openid) > _MAX_OPENID or not openid.isascii():
            openid = _new_openid()
        now = time.monotonic()
        for stale in [c for c, (_, at) in codes.items() if now - at > _CODE_TTL_S]:
            del codes[stale]
        if len(codes) >= _MAX_CODES:
            codes.pop(next(iter(codes)))
        code = secrets.token_urlsafe(24)
        codes[code] = (openid, now)
        response = RedirectResponse(_with_query(redirect_uri, code=code, state=state), 302)
        response.set_cookie(OPENID_COOKIE, openid, httponly=True, samesite="lax")
        return response

    @router.get("/sns/oauth2/access_token")
    async def access_token(
        appid_in: str = Query("", alias="appid"),
        secret_in: str = Query("", alias="secret"),
        code: str = "",
        grant_type: str = "",
    ) -> JSONResponse:
        if appid_in != appid:
            return _error(40013, "invalid appid")
        if not secrets.compare_digest(secret_in.encode(), secret.encode()):
            return _error(40125, "invalid appsecret")
        if grant_type != "authorization_code":
            return _error(40002, "invalid grant_type")
        found = codes.pop(code, None)
        if found is None:
            return _error(40029, "invalid code")
        openid, issued = found
        if time.monotonic() - issued > _CODE_TTL_S:
            return _error(40163, "code been used")
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(32),
                "expires_in": 7200,
                "refresh_token": secrets.token_urlsafe(32),
                "openid": openid,
                "scope": "snsapi_base",
            }
        )

    return router
