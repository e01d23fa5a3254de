"""网页授权 (snsapi_base) against the local gateway's WeChat: the URL, the code exchange, faults."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from adapters.errors import AuthError, InvalidRequestError, TransientError
from adapters.wechat.oauth import OAuthConfig, WeChatOAuthClient
from simulators.config import SimConfig
from simulators.wechat.oauth import OPENID_COOKIE
from tests.adapters.wechatpay_stack import Gateway, gateway_settings, running_gateway
from tests.simulators.fakes import FakeClock

SECRET = "test-wechat-app-secret"
CALLBACK = "http://shebao.test/h5/oauth/callback"


@pytest.fixture
async def gw(tmp_path: Path, clock: FakeClock, config: SimConfig) -> AsyncIterator[Gateway]:
    settings = gateway_settings(tmp_path, wechat_app_secret=SECRET)
    async with running_gateway(settings, clock, config) as gateway:
        yield gateway


def _client(gw: Gateway, secret: str = SECRET) -> WeChatOAuthClient:
    return WeChatOAuthClient(
        OAuthConfig(
            appid=gw.config.appid, secret=secret, oauth_base=gw.url, api_base=gw.url, timeout_s=2
        )
    )


async def _code_for(gw: Gateway, oauth: WeChatOAuthClient, openid: str, state: str) -> str:
    """The browser's trip: WeChat answers the authorisation with a redirect to our callback."""
    url = oauth.authorize_url(CALLBACK, state)
    async with httpx.AsyncClient(cookies={OPENID_COOKIE: openid}) as browser:
        answer = await browser.get(url.partition("#")[0])
    assert answer.status_code == 302
    back = urlsplit(answer.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
    query = parse_qs(back.query)
    assert query["state"] == [state]
    return query["code"][0]


async def test_the_authorisation_url_is_silent_and_the_code_gives_the_browsers_openid(
    gw: Gateway,
) -> None:
    oauth = _client(gw)
    url = oauth.authorize_url(CALLBACK, "st4te")
    assert url.startswith(f"{gw.url}/connect/oauth2/authorize?appid={gw.config.appid}&")
    assert "scope=snsapi_base" in url and "response_type=code" in url
    assert url.endswith("#wechat_redirect")
    code_a = await _code_for(gw, oauth, "oPayerA", "st4te")
    code_b = await _code_for(gw, oauth, "oPayerB", "st4te")
    assert await oauth.openid_for_code(code_a) == "oPayerA"
    assert await oauth.openid_for_code(code_b) == "oPayerB"


async def test_a_used_code_is_refused_as_invalid(gw: Gateway) -> None:
    oauth = _client(gw)
    code = await _code_for(gw, oauth, "oPayerA", "s")
    await oauth.openid_for_code(code)
    with pytest.raises(InvalidRequestError) as err:
        await oauth.openid_for_code(code)
    assert err.value.code == "40029"


async def test_a_wrong_app_secret_is_an_auth_error(gw: Gateway) -> None:
    oauth = _client(gw, secret="not-the-secret")
    code = await _code_for(gw, oauth, "oPayerA", "s")
    with pytest.raises(AuthError):
        await oauth.openid_for_code(code)


async def test_timeouts_and_server_errors_are_transient() -> None:
    def stalled(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("stalled", request=request)

    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="bad gateway")

    config = OAuthConfig(appid="wx1", secret="s", api_base="http://wechat.test")
    for handler, code in ((stalled, "TIMEOUT"), (broken, "HTTP_502")):
        oauth = WeChatOAuthClient(config, transport=httpx.MockTransport(handler))
        with pytest.raises(TransientError) as err:
            await oauth.openid_for_code("c")
        assert err.value.code == code
