"""The 公众号 template-message client against the local gateway, and its error classification."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.clock import system_clock
from adapters.errors import AuthError, OutcomeUnknownError, TransientError, UnknownCodeError
from adapters.mp_messages.client import MpConfig, RecipientRefused, WeChatMpMessenger
from adapters.mp_messages.interface import TemplateMessage
from simulators.mp_messages import MessageSimulator
from simulators.store import create_sim_tables
from simulators.wechatpay_gateway.mp import mp_router
from simulators.wechatpay_gateway.server import serving
from storage.db import make_engine

APPID = "wx-test-appid"
SECRET = "test-app-secret"
MESSAGE = TemplateMessage(
    openid="o-payer-1",
    template_id="tpl-paid",
    url="https://pay.example.test/h5/pay/result/c1",
    data={"first": "缴费成功", "keyword1": "872.67元"},
)


@pytest.fixture
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(postgres_url, durable_commits=False)
    await create_sim_tables(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
async def gateway(engine: AsyncEngine) -> AsyncIterator[str]:
    app = FastAPI()
    app.include_router(mp_router(APPID, SECRET, MessageSimulator(engine, system_clock)))
    async with serving(app) as url:
        yield url


def _config(base: str, secret: str = SECRET) -> MpConfig:
    return MpConfig(api_base=base, appid=APPID, secret=secret, read_timeout_s=2.0)


async def test_the_gateway_records_a_sent_message_and_lists_it_by_openid(gateway: str) -> None:
    messenger = WeChatMpMessenger(_config(gateway))
    msgid = await messenger.send(MESSAGE)
    assert msgid.isdigit()
    await messenger.send(TemplateMessage(openid="o-other", template_id="tpl", url="", data={}))
    async with httpx.AsyncClient(base_url=gateway) as http:
        mine = (await http.get("/sim/wechat/messages", params={"openid": "o-payer-1"})).json()
        everyone = (await http.get("/sim/wechat/messages")).json()
    assert [m["msgid"] for m in mine] == [msgid]
    assert mine[0]["template_id"] == "tpl-paid" and mine[0]["url"] == MESSAGE.url
    assert mine[0]["data"] == {"first": "缴费成功", "keyword1": "872.67元"}
    assert len(everyone) == 2


async def test_a_wrong_app_secret_is_an_auth_error(gateway: str) -> None:
    with pytest.raises(AuthError):
        await WeChatMpMessenger(_config(gateway, secret="wrong")).send(MESSAGE)


async def test_a_token_wechat_no_longer_takes_is_renewed_once(gateway: str) -> None:
    messenger = WeChatMpMessenger(_config(gateway))
    await messenger.send(MESSAGE)
    # Another process renewed the token (which voids ours): the client renews and sends.
    messenger._token = "voided"
    assert (await messenger.send(MESSAGE)).isdigit()


def _answering(errcode: int) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/cgi-bin/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 7200})
        return httpx.Response(200, json={"errcode": errcode, "errmsg": "x"})

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("errcode", "error"),
    [
        (-1, TransientError),
        (45009, TransientError),
        (43004, RecipientRefused),
        (43101, RecipientRefused),
        (40003, RecipientRefused),
        (48001, AuthError),
        (99999, UnknownCodeError),
    ],
)
async def test_wechat_errcodes_are_classified(errcode: int, error: type[Exception]) -> None:
    messenger = WeChatMpMessenger(_config("http://wechat.test"), http=_answering(errcode))
    with pytest.raises(error):
        await messenger.send(MESSAGE)


async def test_a_send_that_times_out_may_have_been_delivered() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/cgi-bin/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 7200})
        raise httpx.ReadTimeout("no answer", request=request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    with pytest.raises(OutcomeUnknownError):
        await WeChatMpMessenger(_config("http://wechat.test"), http=http).send(MESSAGE)


async def test_an_unreachable_wechat_is_transient() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    with pytest.raises(TransientError):
        await WeChatMpMessenger(_config("http://wechat.test"), http=http).send(MESSAGE)
