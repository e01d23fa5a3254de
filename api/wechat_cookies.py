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


def _set(response: Response, state: AppState, name: str, sealed: str, max_age: int) -> None:
    # HttpOnly: page scripts never see it; Lax: sent on WeChat's redirect back and same-site
    # requests, never on another site's POST.
    response.set_cookie(
        name,
        sealed,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=_secure(state),
        path="/",
    )


def set_openid(response: Response, state: AppState, sealed: str) -> None:
    _set(response, state, OPENID_COOKIE, sealed, openid_ttl_s(state))


def set_state(response: Response, state: AppState, sealed: str) -> None:
    _set(response, state, STATE_COOKIE, sealed, STATE_TTL_S)


def clear_state(response: Response) -> None:
    response.delete_cookie(STATE_COOKIE, path="/")
