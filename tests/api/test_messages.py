"""消息: the payer's messages after a payment and after a refund, and the reminder choice."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from typing import Any

import pytest

from tests.api.conftest import ApiStack, Payer
from tests.support import this_month, today
from workflows.reminders import PayerRemindersWorkflow


@pytest.fixture(scope="module")
def api_settings() -> dict[str, Any]:
    # Refunds end soon, so a refunded contribution's messages are all there within a test; and
    # today is a reminder day (the tests' policy closes the year on 31 December).
    days_left = (date(today().year, 12, 31) - today()).days
    return {"sim_refund_delay_s": 0.5, "reminder_days_before_cutoff": (days_left,)}


async def _messages(api: ApiStack, payer: Payer) -> list[dict[str, Any]]:
    r = await api.http.get("/api/v1/messages", headers=payer.auth)
    assert r.status_code == 200, r.text
    return list(r.json())


async def _until_kinds(api: ApiStack, payer: Payer, kinds: list[str]) -> list[dict[str, Any]]:
    """The messages once their kinds are these and each was delivered or kept (no longer
    PENDING), newest first: the steps after the status, recording then delivering, run on."""
    for _ in range(100):
        listed = await _messages(api, payer)
        settled = all(m["wechat_state"] != "PENDING" for m in listed)
        if [m["kind"] for m in listed] == kinds and settled:
            return listed
        await asyncio.sleep(0.2)
    raise AssertionError(f"messages stuck at {[m['kind'] for m in listed]}")


async def test_a_completed_payment_leaves_its_messages_newest_first(api: ApiStack) -> None:
    payer = await api.register()
    assert await _messages(api, payer) == []
    started = await api.quote_and_start(payer)
    cid = started["contribution_id"]
    await api.pay(started["payment"]["out_trade_no"])
    view = await api.wait_for(payer, cid, lambda v: v["status"] == "COMPLETED")
    certificate, paid = await _until_kinds(
        api, payer, ["certificate_available", "payment_succeeded"]
    )
    assert paid["title"] == "缴费成功" and paid["link"] == f"/h5/pay/result/{cid}"
    assert "872.67元" in paid["body"] and this_month() in paid["body"]
    assert view["expected_treasury_date"] in paid["body"]
    assert paid["created_at"].endswith("+08:00")
    assert certificate["title"] == "完税证明可开具" and certificate["link"] == "/h5/certificates"
    # No bound openid yet: kept on the page, not sent to WeChat; and no ID number in either.
    assert {m["wechat_state"] for m in (paid, certificate)} == {"NO_OPENID"}
    assert not any(
        payer.id_number in m["body"] or payer.name in m["body"] for m in (paid, certificate)
    )


async def test_a_refunded_payment_tells_the_refund_started_and_arrived(api: ApiStack) -> None:
    payer = await api.register()
    quote = await api.quote(payer, grade=100)
    assert quote.status_code == 201, quote.text
    total = quote.json()["total_fen"]
    await api.systems.simulators.posting.force(total, "REJECTED")
    started = await api.start(payer, quote.json()["quote_id"])
    assert started.status_code == 201, started.text
    cid = started.json()["contribution_id"]
    await api.pay(started.json()["payment"]["out_trade_no"])
    await api.wait_for(payer, cid, lambda v: v["status"] == "REFUNDED", 40)
    arrived, refunding, _ = await _until_kinds(
        api, payer, ["refund_arrived", "refund_started", "payment_succeeded"]
    )
    assert refunding["title"] == "记账未成功，已发起退款"
    assert arrived["title"] == "退款已到账" and arrived["link"] == f"/h5/pay/result/{cid}"


async def test_messages_are_the_signed_in_payers_own(api: ApiStack) -> None:
    r = await api.http.get("/api/v1/messages")
    assert r.status_code == 401 and r.json()["code"]
    other = await api.register("李四")
    assert await _messages(api, other) == []


async def test_reminders_are_opt_in_and_can_be_turned_off(api: ApiStack) -> None:
    payer = await api.register()
    r = await api.http.get("/api/v1/messages/settings", headers=payer.auth)
    assert r.json() == {"reminders": False}
    r = await api.http.put(
        "/api/v1/messages/settings", json={"reminders": True}, headers=payer.auth
    )
    assert (r.status_code, r.json()) == (200, {"reminders": True})
    r = await api.http.get("/api/v1/messages/settings", headers=payer.auth)
    assert r.json() == {"reminders": True}
    r = await api.http.put(
        "/api/v1/messages/settings", json={"reminders": False}, headers=payer.auth
    )
    assert r.json() == {"reminders": False}


@pytest.mark.parametrize(
    "body", [{"reminders": "yes"}, {"reminders": 1}, {}, {"reminders": True, "x": 1}]
)
async def test_a_setting_that_is_not_a_plain_yes_or_no_is_refused(
    api: ApiStack, body: dict[str, Any]
) -> None:
    payer = await api.register()
    r = await api.http.put("/api/v1/messages/settings", json=body, headers=payer.auth)
    assert r.status_code == 422 and r.json()["code"] == "VALIDATION_ERROR"
    r = await api.http.get("/api/v1/messages/settings", headers=payer.auth)
    assert r.json() == {"reminders": False}


async def _remind(api: ApiStack) -> int:
    return await api.env.client.execute_workflow(
        PayerRemindersWorkflow.run,
        id=f"reminders-{uuid.uuid4().hex}",
        task_queue=api.settings.task_queue,
    )


async def test_on_a_reminder_day_opted_in_payers_with_open_months_are_reminded_once(
    api: ApiStack,
) -> None:
    wanting = await api.register("王五")
    silent = await api.register("赵六")
    r = await api.http.put(
        "/api/v1/messages/settings", json={"reminders": True}, headers=wanting.auth
    )
    assert r.status_code == 200, r.text
    assert await _remind(api) >= 1
    await _remind(api)  # the schedule's run retried, or run twice: still one reminder
    [reminder] = await _messages(api, wanting)
    assert reminder["kind"] == "reminder" and reminder["title"] == "缴费提醒"
    assert f"{today().year}-12-31" in reminder["body"] and this_month() in reminder["body"]
    assert reminder["link"] == "/h5/pay/confirm?for=me"
    assert await _messages(api, silent) == []
