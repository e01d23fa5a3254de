"""POST /api/v1/payments/wechatpay/notify: only genuine, fresh, matching callbacks move money."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from adapters.payments.wechatpay.crypto import signed_headers
from storage import payments
from tests.adapters.wechatpay_stack import APIV3_KEY
from tests.api.conftest import Payer
from tests.api.wechatpay_api import NOTIFY_PATH, WxStack, callback_body, wechatpay_stack

pytestmark = pytest.mark.devserver


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def wx(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[WxStack]:
    # Polling rarely: what moves these contributions is the callback under test.
    async with wechatpay_stack(
        dev_env, tmp_path_factory.mktemp("wx-notify"), payment_poll_interval_s=600
    ) as stack:
        # The gateway's own deliveries would race the hand-made callbacks: drop them.
        stack.gateway.switches.lose = True
        yield stack


async def _awaiting(wx: WxStack) -> tuple[Payer, dict[str, Any]]:
    payer = await wx.api.register()
    return payer, await wx.api.quote_and_start(payer)


def _paid(wx: WxStack, out_trade_no: str, total: int, **changes: Any) -> dict[str, Any]:
    cfg = wx.gateway.channel_config
    resource = {
        "mchid": cfg.mchid,
        "appid": cfg.appid,
        "out_trade_no": out_trade_no,
        "transaction_id": "4200000000000000000000000042",
        "trade_type": "MWEB",
        "trade_state": "SUCCESS",
        "bank_type": "OTHERS",
        "success_time": "2026-03-02T10:00:00+08:00",
        "amount": {"total": total, "payer_total": total, "currency": "CNY"},
    }
    return {**resource, **changes}


async def _status(wx: WxStack, payer: Payer, started: dict[str, Any]) -> str:
    return str((await wx.api.status(payer, started["contribution_id"]))["status"])


async def test_a_genuine_callback_is_acknowledged_with_204_and_pays_the_contribution(
    wx: WxStack,
) -> None:
    payer, started = await _awaiting(wx)
    no = started["payment"]["out_trade_no"]
    # Paid at the channel: the workflow confirms every notice there before recording it.
    await wx.gateway.sim.pay(no)
    event_id = f"EV-{uuid.uuid4().hex[:20]}"
    body = callback_body(
        _paid(wx, no, started["total_fen"]), apiv3_key=APIV3_KEY, event_id=event_id
    )
    r = await wx.post_callback(body)
    assert r.status_code == 204, r.text
    await wx.api.wait_for(
        payer, started["contribution_id"], lambda v: v["status"] != "AWAITING_PAYMENT"
    )
    async with wx.api.sessions() as db:
        event = await payments.get_event(db, event_id)
    assert event is not None and event.processed_at is not None


async def test_a_duplicate_callback_is_acknowledged_and_processed_once(wx: WxStack) -> None:
    _, started = await _awaiting(wx)
    no = started["payment"]["out_trade_no"]
    event_id = f"EV-{uuid.uuid4().hex[:20]}"
    body = callback_body(
        _paid(wx, no, started["total_fen"]), apiv3_key=APIV3_KEY, event_id=event_id
    )
    assert (await wx.post_callback(body)).status_code == 204
    async with wx.api.sessions() as db:
        first = await payments.get_event(db, event_id)
    again = callback_body(
        _paid(wx, no, started["total_fen"]), apiv3_key=APIV3_KEY, event_id=event_id
    )
    assert (await wx.post_callback(again)).status_code == 204
    async with wx.api.sessions() as db:
        second = await payments.get_event(db, event_id)
    assert first is not None and second is not None
    assert second.processed_at == first.processed_at


async def test_out_of_order_callbacks_a_refund_before_its_payment_do_no_harm(
    wx: WxStack,
) -> None:
    payer, started = await _awaiting(wx)
    no = started["payment"]["out_trade_no"]
    cfg = wx.gateway.channel_config
    refund = {
        "mchid": cfg.mchid,
        "out_trade_no": no,
        "transaction_id": "4200000000000000000000000042",
        "out_refund_no": f"R{no}",
        "refund_id": "50000000000000000000000000001",
        "refund_status": "SUCCESS",
        "success_time": "2026-03-02T10:05:00+08:00",
        "amount": {"total": started["total_fen"], "refund": started["total_fen"]},
    }
    early = callback_body(refund, apiv3_key=APIV3_KEY, event_type="REFUND.SUCCESS")
    assert (await wx.post_callback(early)).status_code == 204
    assert await _status(wx, payer, started) == "AWAITING_PAYMENT"
    await wx.gateway.sim.pay(no)  # the payment the late callback tells of
    late = callback_body(_paid(wx, no, started["total_fen"]), apiv3_key=APIV3_KEY)
    assert (await wx.post_callback(late)).status_code == 204
    view = await wx.api.wait_for(
        payer, started["contribution_id"], lambda v: v["status"] != "AWAITING_PAYMENT"
    )
    assert view["payment"]["trade_state"] == "SUCCESS"


async def test_forged_callback_is_rejected_with_401(wx: WxStack) -> None:
    payer, started = await _awaiting(wx)
    no = started["payment"]["out_trade_no"]
    body = callback_body(_paid(wx, no, started["total_fen"]), apiv3_key=APIV3_KEY)
    r = await wx.post_callback(body, forge=True)
    assert r.status_code == 401
    assert r.json()["code"] == "FAIL" and r.json()["message"]
    assert await _status(wx, payer, started) == "AWAITING_PAYMENT"


async def test_stale_callback_is_rejected_with_401(wx: WxStack) -> None:
    _, started = await _awaiting(wx)
    no = started["payment"]["out_trade_no"]
    body = callback_body(_paid(wx, no, started["total_fen"]), apiv3_key=APIV3_KEY)
    assert (await wx.post_callback(body, age_s=301)).status_code == 401
    assert (await wx.post_callback(body, age_s=240)).status_code == 204


async def test_a_body_changed_after_signing_is_rejected_with_401(wx: WxStack) -> None:
    _, started = await _awaiting(wx)
    no = started["payment"]["out_trade_no"]
    body = callback_body(_paid(wx, no, started["total_fen"]), apiv3_key=APIV3_KEY)
    keys = wx.gateway.config.keys
    headers = signed_headers(keys.platform_private, keys.platform_key_id, body, int(time.time()))
    tampered = body.replace('"id": "EV-', '"id": "EX-', 1)
    assert tampered != body
    r = await wx.api.http.post(NOTIFY_PATH, content=tampered.encode(), headers=headers)
    assert r.status_code == 401
    r = await wx.api.http.post(NOTIFY_PATH, content=body.encode(), headers=headers)
    assert r.status_code == 204


async def test_a_callback_encrypted_with_another_key_is_rejected_with_401(wx: WxStack) -> None:
    _, started = await _awaiting(wx)
    no = started["payment"]["out_trade_no"]
    body = callback_body(_paid(wx, no, started["total_fen"]), apiv3_key="x" * 32)
    r = await wx.post_callback(body)
    assert r.status_code == 401 and r.json()["code"] == "FAIL"


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": {"total": 1, "payer_total": 1, "currency": "CNY"}},
        {"mchid": "1900000999"},
        {"appid": "wx0000000000000000"},
    ],
    ids=["amount", "mchid", "appid"],
)
async def test_a_callback_that_does_not_match_our_order_is_rejected(
    wx: WxStack, changes: dict[str, Any]
) -> None:
    payer, started = await _awaiting(wx)
    no = started["payment"]["out_trade_no"]
    event_id = f"EV-{uuid.uuid4().hex[:20]}"
    resource = _paid(wx, no, started["total_fen"], **changes)
    body = callback_body(resource, apiv3_key=APIV3_KEY, event_id=event_id)
    r = await wx.post_callback(body)
    assert r.status_code == 400 and r.json()["code"] == "FAIL"
    assert await _status(wx, payer, started) == "AWAITING_PAYMENT"
    async with wx.api.sessions() as db:
        assert await payments.get_event(db, event_id) is None
