"""A contribution paid through the real adapter, the local gateway and a signed callback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from adapters.payments.interface import CreateOrder, OrderCreated
from adapters.payments.wechatpay.crypto import verify_jsapi_pay_params
from simulators.wechat.oauth import OPENID_COOKIE
from storage import payments
from tests.api.wechatpay_api import WxStack, wechatpay_stack
from tests.support import this_month

pytestmark = pytest.mark.devserver


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def wx(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[WxStack]:
    # Polling rarely: only the gateway's signed callback can tell the workflow it was paid.
    async with wechatpay_stack(
        dev_env, tmp_path_factory.mktemp("wx-e2e"), payment_poll_interval_s=600
    ) as stack:
        yield stack


async def test_a_contribution_is_paid_by_signed_callback_and_reaches_completed(
    wx: WxStack,
) -> None:
    # Every WeChat quirk at once: probes with bad signatures and duplicated deliveries.
    wx.gateway.switches.bad_signature_probe = True
    wx.gateway.switches.duplicate = True
    api = wx.api
    payer = await api.register()
    started = await api.quote_and_start(payer)
    payment = started["payment"]
    no = payment["out_trade_no"]
    assert payment["cashier_url"].startswith(f"{api.settings.base_url}/sim/cashier/{no}?prepay_id=")

    page = await api.http.get(f"/sim/cashier/{no}")
    assert page.status_code == 200 and "零钱支付" in page.text
    paid = await api.pay(no, method="wechat_balance")
    assert paid.status_code == 200, paid.text

    view = await api.wait_for(
        payer, started["contribution_id"], lambda v: v["status"] == "COMPLETED", timeout_s=30
    )
    assert view["payment"]["trade_state"] == "SUCCESS"
    [sent, *_] = await wx.gateway.sim.notifications_for(no)
    assert sent.delivered_at is not None
    async with api.sessions() as db:
        event = await payments.get_event(db, sent.notification.event_id)
    assert event is not None and event.processed_at is not None
    stats = await wx.gateway.admin.stats()
    assert stats.probes_rejected >= 1 and stats.probes_accepted == 0
    assert stats.duplicates_sent >= 1


async def test_the_cashier_reports_a_second_payment_as_a_conflict(wx: WxStack) -> None:
    api = wx.api
    payer = await api.register()
    started = await api.quote_and_start(payer)
    no = started["payment"]["out_trade_no"]
    assert (await api.pay(no)).status_code == 200
    again = await api.pay(no)
    assert again.status_code == 409 and again.json()["code"] == "ORDER_PAID"
    assert (await api.pay("SBunknown000001")).status_code == 404


WECHAT_UA = "Mozilla/5.0 (iPhone) Mobile/15E148 MicroMessenger/8.0.50 NetType/WIFI"


async def test_orders_name_the_payer_by_openid_inside_wechat_and_by_address_outside(
    wx: WxStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = wx.api
    seen: list[CreateOrder] = []
    create = wx.gateway.sim.create_order

    async def recording(req: CreateOrder) -> OrderCreated:
        seen.append(req)
        return await create(req)

    monkeypatch.setattr(wx.gateway.sim, "create_order", recording)
    # Outside WeChat, behind the trusted proxy (uvicorn trusts loopback's X-Forwarded-For).
    payer = await api.register()
    q = await api.quote(payer)
    r = await api.http.post(
        "/api/v1/contributions",
        json={"quote_id": q.json()["quote_id"], "channel": "wechat_balance"},
        headers={**payer.auth, "Idempotency-Key": "h5-address-1", "X-Forwarded-For": "203.0.113.7"},
    )
    assert r.status_code == 201, r.text
    assert "jsapi" not in r.json()["payment"]
    assert (seen[-1].payer_client_ip, seen[-1].payer_openid) == ("203.0.113.7", None)

    # Inside WeChat: 网页授权 at the gateway (its WeChat), back to us with the openid kept.
    async with httpx.AsyncClient(
        base_url=api.settings.base_url, headers={"User-Agent": WECHAT_UA}
    ) as phone:
        phone.cookies.set(OPENID_COOKIE, "oApiWeChatPayer000000000001")
        page = await phone.get("/h5/", follow_redirects=True)
        assert page.status_code == 200 and page.url.path == "/h5/"
        assert [h.url.path for h in page.history] == [
            "/h5/",
            "/connect/oauth2/authorize",
            "/h5/oauth/callback",
        ]
        other = await api.register()
        signed = await phone.post("/api/v1/session", json=other.trio)
        auth = {"Authorization": f"Bearer {signed.json()['token']}"}
        q = await phone.post(
            "/api/v1/quotes",
            json={"payer_ref": "me", "months": [this_month()], "back_payment": False, "grade": 60},
            headers=auth,
        )
        r = await phone.post(
            "/api/v1/contributions",
            json={"quote_id": q.json()["quote_id"], "channel": "wechat_balance"},
            headers={**auth, "Idempotency-Key": "jsapi-1"},
        )
    assert r.status_code == 201, r.text
    jsapi = r.json()["payment"]["jsapi"]
    assert seen[-1].payer_openid == "oApiWeChatPayer000000000001"
    assert jsapi["package"] == f"prepay_id={r.json()['payment']['prepay_id']}"
    assert verify_jsapi_pay_params(wx.gateway.config.keys.merchant_public, jsapi)
