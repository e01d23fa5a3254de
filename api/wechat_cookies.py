"""The cookies of 网页授权: the sealed openid and the round trip's state (services/wechat.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Cookie, Response

from services.context import AppState
from services.wechat import OPENID_COOKIE, STATE_COOKIE, STATE_TTL_S, openid_ttl_s

OpenIdCookieValue = Annotated[str | None, Cookie(alias=OPENID_COOKIE)]
StateCookie = Annotated[str | None, Cookie(alias=STATE_COOKIE)]


def _secure(state: AppState) -> bool:
    return state.settings.base_url.startswith("https://")


def set_openid(response: Response, state: AppState, sealed: str) -> None:
    # HttpOnly: page scripts never see it; Lax: sent on WeChat's redirect back and same-site
    # requests, never on another site's POST.
    response.set_cookie(
        OPENID_COOKIE,
        sealed,
        max_age=openid_ttl_s(state),
        httponly=True,
        samesite="lax",
        secure=_secure(state),
        path="/",
    )


def set_state(response: Response, state: AppState, sealed: str) -> None:
    response.set_cookie(
        STATE_COOKIE,
        sealed,
        max_age=STATE_TTL_S,
        httponly=True,
        samesite="lax",
        secure=_secure(state),
        path="/",
    )


def clear_state(response: Response) -> None:
    response.delete_cookie(STATE_COOKIE, path="/")
