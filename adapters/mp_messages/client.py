"""The 公众号 template-message client: access token kept and renewed, errors classified."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from adapters.errors import (
    AdapterError,
    AuthError,
    InvalidRequestError,
    OutcomeUnknownError,
    TransientError,
    UnknownCodeError,
)
from adapters.mp_messages.interface import TemplateMessage

if TYPE_CHECKING:
    from settings import Settings

# WeChat's global codes (errcode) and what retrying can do about them.
TOKEN_EXPIRED = frozenset({40001, 40014, 42001})
TRANSIENT = frozenset({-1, 45009, 45011, 45047})
AUTH = frozenset({40013, 40125, 40164, 41004, 48001, 61004})
# The payer cannot receive it (unsubscribed, refused, unknown openid), or the template is bad.
REFUSED = frozenset({40003, 43004, 43101, 40036, 40037, 47001, 47003})
# A token is renewed this long before WeChat says it expires.
TOKEN_MARGIN_S = 300


class RecipientRefused(InvalidRequestError):
    """The payer cannot receive this message (unsubscribed, refused, unknown openid)."""


@dataclass(frozen=True)
class MpConfig:
    api_base: str
    appid: str
    secret: str
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> MpConfig:
        return cls(
            api_base=settings.resolved_mp_api_base,
            appid=settings.wechatpay_appid,
            secret=settings.wechat_app_secret,
            connect_timeout_s=settings.wechatpay_connect_timeout_s,
            read_timeout_s=settings.wechatpay_read_timeout_s,
        )


def classify(errcode: int, errmsg: str) -> AdapterError:
    """WeChat's errcode as our class; the code is kept, its text not (it may echo input)."""
    code = str(errcode)
    if errcode in TRANSIENT:
        return TransientError(code, "wechat busy or rate limited")
    if errcode in AUTH or errcode in TOKEN_EXPIRED:
        return AuthError(code, "credentials refused")
    if errcode in REFUSED:
        return RecipientRefused(code, "recipient cannot receive the message")
    return UnknownCodeError(code, "undocumented errcode")


class WeChatMpMessenger:
    """PayerMessenger over the 公众号 API: /cgi-bin/token and /cgi-bin/message/template/send."""

    def __init__(self, config: MpConfig, http: httpx.AsyncClient | None = None) -> None:
        self._config = config
        self._timeout = httpx.Timeout(config.read_timeout_s, connect=config.connect_timeout_s)
        self._http = http
        self._token: str | None = None
        self._token_until = 0.0
        self._lock = asyncio.Lock()

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        url = self._config.api_base.rstrip("/") + path
        try:
            if self._http is not None:
                response = await self._http.request(method, url, timeout=self._timeout, **kwargs)
            else:
                async with httpx.AsyncClient(timeout=self._timeout) as http:
                    response = await http.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as err:
            raise TransientError("CONNECT", type(err).__name__) from err
        except httpx.TimeoutException as err:
            # The request may have arrived: a message could have been sent.
            raise OutcomeUnknownError("TIMEOUT", type(err).__name__) from err
        except httpx.HTTPError as err:
            raise TransientError("HTTP", type(err).__name__) from err
        if response.status_code >= 500:
            raise TransientError(f"HTTP_{response.status_code}")
        try:
            payload = response.json()
        except ValueError as err:
            raise UnknownCodeError(f"HTTP_{response.status_code}", "not JSON") from err
        if not isinstance(payload, dict):
            raise UnknownCodeError(f"HTTP_{response.status_code}", "not a JSON object")
        return payload

    async def _access_token(self, *, renew: bool = False) -> str:
        async with self._lock:
            if not renew and self._token is not None and time.monotonic() < self._token_until:
                return self._token
            payload = await self._call(
                "GET",
                "/cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": self._config.appid,
                    "secret": self._config.secret,
                },
            )
            token = payload.get("access_token")
            if not isinstance(token, str) or not token:
                raise classify(int(payload.get("errcode", -2)), str(payload.get("errmsg", "")))
            expires_in = int(payload.get("expires_in", 7200))
            self._token = token
            self._token_until = time.monotonic() + max(expires_in - TOKEN_MARGIN_S, 60)
            return token

    async def send(self, message: TemplateMessage) -> str:
        body = {
            "touser": message.openid,
            "template_id": message.template_id,
            "url": message.url,
            "data": {name: {"value": value} for name, value in message.data.items()},
        }
        renewed = False
        while True:
            token = await self._access_token(renew=renewed)
            payload = await self._call(
                "POST",
                "/cgi-bin/message/template/send",
                params={"access_token": token},
                json=body,
            )
            errcode = int(payload.get("errcode", 0))
            if errcode == 0:
                return str(payload.get("msgid", ""))
            if errcode in TOKEN_EXPIRED and not renewed:
                # Another process may have renewed the token (which voids ours): once more.
                renewed = True
                continue
            raise classify(errcode, str(payload.get("errmsg", "")))
