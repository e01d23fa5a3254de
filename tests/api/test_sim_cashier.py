"""The simulated WeChat cashier: page, pay outcomes and the order states it refuses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx

from api.app import create_app
from tests.api.conftest import ApiStack
from tests.support import app_client
from wiring import build_simulators


@asynccontextmanager
async def app_at(api: ApiStack, moment: datetime) -> AsyncIterator[httpx.AsyncClient]:
    """A second API process whose simulator clock reads `moment` (same databases)."""
    engine = api.systems.simulators.engine
    systems = await build_simulators(api.settings, lambda: moment, engine=engine)
    settings = api.settings.model_copy(update={"simulators": True})
    app = create_app(settings, client=api.env.client, sessions=api.sessions, systems=systems)
    async with app_client(app) as http:
        yield http


async def test_the_cashier_page_shows_the_amount_in_yuan_and_three_buttons(api: ApiStack) -> None:
    payer = await api.register()
    no = (await api.quote_and_start(payer))["payment"]["out_trade_no"]
    page = await api.http.get(f"/sim/cashier/{no}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for text in (
        "<title>微信支付</title>",
        "872.67",
        "零钱支付",
        "银行卡支付",
        "支付失败",
        "待支付",
    ):
        assert text in page.text
    assert f'"/sim/cashier/{no}/pay"' in page.text


async def test_a_failed_payment_leaves_the_contribution_awaiting_payment(api: ApiStack) -> None:
    payer = await api.register()
    started = await api.quote_and_start(payer)
    r = await api.http.post(
        f"/sim/cashier/{started['payment']['out_trade_no']}/pay", json={"outcome": "fail"}
    )
    assert r.status_code == 200
    assert r.json()["trade_state"] == "PAYERROR"
    view = await api.status(payer, started["contribution_id"])
    assert view["status"] == "AWAITING_PAYMENT"


async def test_an_unknown_order_is_order_not_found(api: ApiStack) -> None:
    r = await api.http.get("/sim/cashier/SB000000000000000000000001")
    assert (r.status_code, r.json()["code"]) == (404, "ORDER_NOT_FOUND")
    r = await api.pay("SB000000000000000000000001")
    assert (r.status_code, r.json()["code"]) == (404, "ORDER_NOT_FOUND")


async def test_paying_after_the_deadline_is_order_expired(api: ApiStack) -> None:
    payer = await api.register()
    no = (await api.quote_and_start(payer))["payment"]["out_trade_no"]
    async with app_at(api, datetime.now(UTC) + timedelta(days=1)) as later:
        page = await later.get(f"/sim/cashier/{no}")
        assert "订单已过期" in page.text and "零钱支付" not in page.text
        r = await later.post(f"/sim/cashier/{no}/pay", json={"outcome": "success"})
    assert r.status_code == 409
    assert r.json() == {"code": "ORDER_EXPIRED", "message": "订单已过期", "field": None}
