"""Money paths that must not be walked around: one live order per quote, the payer first."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from storage import contributions, payments
from tests.api.conftest import ApiStack, Payer


@pytest.fixture(scope="module")
def api_settings() -> dict[str, Any]:
    # Callbacks lost and no polling within a test: only closing-then-asking finds a payment.
    return {"sim_lost_callback_rate": 1.0, "payment_poll_interval_s": 3600}


async def _quote(api: ApiStack, requester: Payer, payer_ref: str = "me") -> str:
    q = await api.quote(requester, payer_ref=payer_ref)
    assert q.status_code == 201, q.text
    return str(q.json()["quote_id"])


async def _channel_state(api: ApiStack, out_trade_no: str) -> str:
    sim = api.systems.simulators.payments
    assert sim is not None
    return (await sim.query_order(out_trade_no)).provider_state


async def test_a_second_start_of_a_quote_with_another_key_gets_the_live_order(
    api: ApiStack,
) -> None:
    payer = await api.register()
    quote_id = await _quote(api, payer)
    first = await api.start(payer, quote_id, key="key-one-" + quote_id)
    assert first.status_code == 201, first.text
    for n in range(3):
        again = await api.start(payer, quote_id, key=f"key-{n}-{quote_id}")
        assert again.status_code == 201, again.text
        assert again.json()["contribution_id"] == first.json()["contribution_id"]
        assert again.json()["payment"] == first.json()["payment"]
    async with api.sessions() as db:
        row = await contributions.live_for_quote(db, quote_id)
        assert row is not None and row.id == first.json()["contribution_id"]
        assert len(await payments.payments_for(db, row.id)) == 1


async def _started_for_me_by_another(api: ApiStack) -> tuple[Payer, Payer, httpx.Response]:
    """Someone looked me up and started paying this month for me; the order awaits payment."""
    other = await api.register("钱二")
    me = await api.register("孙三")
    theirs = await api.start(other, await _quote(api, other, me.payer_ref))
    assert theirs.status_code == 201, theirs.text
    return other, me, theirs


async def test_the_persons_own_start_closes_an_unpaid_order_someone_else_started(
    api: ApiStack,
) -> None:
    other, me, theirs = await _started_for_me_by_another(api)

    mine = await api.start(me, await _quote(api, me))

    assert mine.status_code == 201, mine.text
    assert mine.json()["contribution_id"] != theirs.json()["contribution_id"]
    closed = await api.status(other, theirs.json()["contribution_id"])
    assert closed["status"] == "CANCELLED"
    assert await _channel_state(api, theirs.json()["payment"]["out_trade_no"]) == "CLOSED"


async def test_the_persons_own_start_is_refused_when_the_other_order_turns_out_paid(
    api: ApiStack,
) -> None:
    other, me, theirs = await _started_for_me_by_another(api)
    # Paid at the channel; the callback is lost, so storage still says AWAITING_PAYMENT.
    assert (await api.pay(theirs.json()["payment"]["out_trade_no"])).status_code == 200

    mine = await api.start(me, await _quote(api, me))

    assert mine.status_code == 409, mine.text
    assert mine.json()["code"] == "ALREADY_PAID"
    assert "已由他人代为缴纳" in mine.json()["message"]
    paid = await api.status(other, theirs.json()["contribution_id"])
    assert paid["status"] not in {"AWAITING_PAYMENT", "CANCELLED"}
