"""网页授权 (OAuth2, snsapi_base): the authorisation URL, and a code exchanged for the openid."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlencode

import httpx

from adapters.errors import AuthError, InvalidRequestError, TransientError

AUTHORIZE_PATH = "/connect/oauth2/authorize"
ACCESS_TOKEN_PATH = "/sns/oauth2/access_token"
PRODUCTION_OAUTH_BASE = "https://open.weixin.qq.com"
PRODUCTION_API_BASE = "https://api.weixin.qq.com"

# WeChat's errcodes: -1 busy; 45011 frequency limit; 40001/40125 wrong secret; 40013 bad appid.
_TRANSIENT = {-1, 45011}
_AUTH = {40001, 40013, 40125, 41004}
_MAX_OPENID = 128


@dataclass(frozen=True)
class OAuthConfig:
    appid: str
    secret: str = field(repr=False)
    oauth_base: str = PRODUCTION_OAUTH_BASE
    api_base: str = PRODUCTION_API_BASE
    timeout_s: float = 5.0


class WeChatOAuth(Protocol):
    """What the pages need from 网页授权."""

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        """Where WeChat asks (silently, snsapi_base) for the payer's openid."""
        ...

    async def openid_for_code(self, code: str) -> str:
        """The openid the one-time code stands for; adapters.errors classes on failure."""
        ...


class WeChatOAuthClient(WeChatOAuth):
    """网页授权 over HTTP; every call has a timeout and a classified error."""

    def __init__(self, config: OAuthConfig, transport: httpx.AsyncBaseTransport | None = None):
        self._config = config
        self._transport = transport

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        query = urlencode(
            {
                "appid": self._config.appid,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": "snsapi_base",
                "state": state,
            }
        )
        # WeChat insists on the fragment, in this exact spelling.
        return f"{self._config.oauth_base.rstrip('/')}{AUTHORIZE_PATH}?{query}#wechat_redirect"

    async def openid_for_code(self, code: str) -> str:
        params = {
            "appid": self._config.appid,
            "secret": self._config.secret,
            "code": code,
            "grant_type": "authorization_code",
        }
        url = f"{self._config.api_base.rstrip('/')}{ACCESS_TOKEN_PATH}"
        try:
            async with httpx.AsyncClient(
                timeout=self._config.timeout_s, transport=self._transport
            ) as http:
                response = await http.get(url, params=params)
        except httpx.TimeoutException:
            raise TransientError("TIMEOUT", "微信网页授权超时") from None
        except httpx.HTTPError as err:
            raise TransientError("HTTP_ERROR", type(err).__name__) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientError(f"HTTP_{response.status_code}", "微信网页授权暂不可用")
        try:
            data = response.json()
        except ValueError:
            raise TransientError("BAD_RESPONSE", "微信网页授权应答不是 JSON") from None
        if not isinstance(data, dict):
            raise TransientError("BAD_RESPONSE", "微信网页授权应答格式错误")
        errcode = data.get("errcode")
        if errcode:
            code_text = str(errcode)
            if errcode in _TRANSIENT:
                raise TransientError(code_text, "微信网页授权繁忙")
            if errcode in _AUTH:
                raise AuthError(code_text, "公众号凭据无效")
            # 40029 invalid code, 40163 code already used, and the rest: this code is spent.
            raise InvalidRequestError(code_text, "授权码无效或已使用")
        openid = data.get("openid")
        if not isinstance(openid, str) or not openid or len(openid) > _MAX_OPENID:
            raise TransientError("BAD_RESPONSE", "应答缺少 openid")
        return openid
