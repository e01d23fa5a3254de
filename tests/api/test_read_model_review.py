"""A contribution in manual review shows why from storage, as the workflow's query says it."""

from __future__ import annotations

from typing import Any

import pytest

from domain.payments import RefundState
from domain.review import refund_review_reason
from tests.api.conftest import ApiStack
from tests.api.reading import without_temporal
from tests.api.test_contribution_view import _assert_stored_view_is_the_workflows, _read


@pytest.fixture(scope="module")
def api_settings() -> dict[str, Any]:
    # Every posting fails, so every paid contribution is refunded, and refunds end soon.
    return {"sim_posting_failure_rate": 1.0, "sim_refund_delay_s": 0.5}


async def test_a_closed_refund_in_review_shows_its_reason_with_temporal_away(
    api: ApiStack,
) -> None:
    payer = await api.register()
    quote = await api.quote(payer)
    assert quote.status_code == 201, quote.text
    sim = api.systems.simulators.payments
    assert sim is not None
    await sim.force("refund", quote.json()["total_fen"], "CLOSED")
    started = await api.start(payer, quote.json()["quote_id"])
    assert started.status_code == 201, started.text
    contribution_id = started.json()["contribution_id"]
    paid = await api.pay(started.json()["payment"]["out_trade_no"], method="wechat_balance")
    assert paid.status_code == 200, paid.text
    await api.wait_for(payer, contribution_id, lambda v: v["status"] == "MANUAL_REVIEW", 40)
    async with without_temporal(api) as http:
        view = await _read(http, payer, contribution_id)
    assert view["status"] == "MANUAL_REVIEW"
    assert view["review_reason"] == refund_review_reason(RefundState.CLOSED)
    assert view["refund"]["status"] == "CLOSED"
    await _assert_stored_view_is_the_workflows(api, payer, contribution_id)
