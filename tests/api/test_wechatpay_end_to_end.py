"""A contribution paid through the real adapter, the local gateway and a signed callback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from storage import payments
from tests.api.wechatpay_api import WxStack, wechatpay_stack

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
