"""Operator reconciliation routes on the dev server: run a day, read its report, the schedule."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

from adapters.payments.interface import CreateOrder
from domain.order_numbers import payment_order_no
from domain.reconciliation_messages import ReconciliationSummary
from domain.vocabulary import Channel
from storage.audit import audit_entries
from tests.api.conftest import ApiStack
from tests.support import SHANGHAI, today

ROUTES = [
    ("GET", "/api/v1/operator/reconciliations"),
    ("GET", "/api/v1/operator/reconciliations/2026-11-01"),
    ("POST", "/api/v1/operator/reconciliations/2026-11-01/run"),
    ("GET", "/api/v1/operator/reconciliation-reviews"),
    ("POST", "/api/v1/operator/reconciliation-reviews/ZZ1/resolve"),
]
REVIEWS = "/api/v1/operator/reconciliation-reviews"


async def _stray_payment_yesterday(api: ApiStack, amount_fen: int, no: str | None = None) -> str:
    """An order storage does not hold, paid yesterday at noon (Shanghai) at the channel."""
    sim = api.systems.simulators.payments
    assert sim is not None
    no = no or "ZZ" + uuid.uuid4().hex[:20]
    await sim.create_order(
        CreateOrder(
            out_trade_no=no,
            description="not ours",
            amount_fen=amount_fen,
            time_expire=datetime.now(SHANGHAI) + timedelta(hours=1),
            channel=Channel.WECHAT_BALANCE,
            notify_url="http://testserver/api/v1/payments/wechatpay/notify",
        )
    )
    yesterday_noon = datetime.combine(today() - timedelta(days=1), time(12), SHANGHAI)
    await sim.pay(no, "success", at=yesterday_noon)
    return no


async def test_reconciliation_routes_refuse_without_the_operator_token(api: ApiStack) -> None:
    payer = await api.register()
    for method, path in ROUTES:
        for headers in ({}, {"Authorization": "Bearer wrong"}, payer.auth):
            r = await api.http.request(method, path, headers=headers)
            assert r.status_code == 401, (method, path, r.text)
            assert r.json()["code"] == "OPERATOR_UNAUTHORIZED"


async def _queue(api: ApiStack, *numbers: str) -> dict[str, dict[str, object]]:
    r = await api.http.get(REVIEWS, params={"status": ""}, headers=api.operator)
    assert r.status_code == 200, r.text
    return {x["out_trade_no"]: x for x in r.json() if x["out_trade_no"] in numbers}


async def test_an_unknown_paid_order_is_queued_then_refunded_only_on_an_operators_word(
    api: ApiStack,
) -> None:
    day = today() - timedelta(days=1)
    stray = await _stray_payment_yesterday(api, 5678)
    # Ours by its form, but storage does not hold it (as after a restore from backup).
    lost = await _stray_payment_yesterday(api, 1234, payment_order_no(uuid.uuid4().hex[:24]))

    r = await api.http.post(f"/api/v1/operator/reconciliations/{day}/run", headers=api.operator)
    assert r.status_code == 202, r.text
    assert r.json()["workflow_id"] == f"reconciliation-{day}"
    handle = api.env.client.get_workflow_handle(
        r.json()["workflow_id"], result_type=ReconciliationSummary
    )
    summary = await handle.result()
    assert isinstance(summary, ReconciliationSummary)
    assert (summary.bill_date, summary.orphan_payments, summary.refunds_requested) == (day, 0, 0)
    assert summary.unknown_orders >= 2

    r = await api.http.get(f"/api/v1/operator/reconciliations/{day}", headers=api.operator)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["clean"] is False and body["report"]["actions"] == []
    unknown = {u["out_trade_no"]: u for u in body["report"]["unknown_orders"]}
    assert unknown[stray]["reason"] == "FOREIGN_ORDER"
    assert unknown[lost]["reason"] == "OUR_ORDER_NOT_STORED"
    assert unknown[stray]["trade_time"].endswith("+08:00")
    sim = api.systems.simulators.payments
    assert sim is not None
    assert (await sim.order(stray)).refunds == [] and (await sim.order(lost)).refunds == []

    # The operators' queue lists both, open.
    queue = await _queue(api, stray, lost)
    assert {no: (q["status"], q["amount_fen"]) for no, q in queue.items()} == {
        stray: ("OPEN", 5678),
        lost: ("OPEN", 1234),
    }

    # Refund the foreign one: a run of the day refunds it, once; dismiss the lost one.
    r = await api.http.post(
        f"{REVIEWS}/{stray}/resolve",
        json={"action": "refund", "note": "not the other system's, ticket 7"},
        headers=api.operator,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "REFUND_APPROVED"
    await api.env.client.get_workflow_handle(f"reconciliation-{day}").result()
    assert [x.amount_fen for x in (await sim.order(stray)).refunds] == [5678]
    r = await api.http.post(
        f"{REVIEWS}/{lost}/resolve",
        json={"action": "dismiss", "note": "posted from the backup, ticket 8"},
        headers=api.operator,
    )
    assert (r.status_code, r.json()["status"]) == (200, "DISMISSED"), r.text
    queue = await _queue(api, stray, lost)
    assert (queue[stray]["status"], queue[stray]["out_refund_no"]) == ("REFUNDED", f"RC{stray}")
    assert queue[lost]["status"] == "DISMISSED" and (await sim.order(lost)).refunds == []

    # A decision is taken once; running the day again refunds nothing twice.
    twice = await api.http.post(
        f"{REVIEWS}/{lost}/resolve", json={"action": "refund", "note": "x"}, headers=api.operator
    )
    assert (twice.status_code, twice.json()["code"]) == (409, "REVIEW_ALREADY_DECIDED")
    again = await api.http.post(f"/api/v1/operator/reconciliations/{day}/run", headers=api.operator)
    assert again.status_code == 202, again.text
    await api.env.client.get_workflow_handle(again.json()["workflow_id"]).result()
    assert len((await sim.order(stray)).refunds) == 1
    assert (await sim.order(lost)).refunds == []
    async with api.sessions() as db:
        entries = await audit_entries(db, subject=f"payment:{stray}")
    assert [e.action for e in entries] == ["reconciliation.review.refund"]


async def test_review_decisions_on_unknown_entries_answer_with_the_envelope(api: ApiStack) -> None:
    r = await api.http.post(
        f"{REVIEWS}/ZZ-none/resolve", json={"action": "dismiss", "note": "x"}, headers=api.operator
    )
    assert (r.status_code, r.json()["code"]) == (404, "REVIEW_NOT_FOUND")
    r = await api.http.post(
        f"{REVIEWS}/ZZ-none/resolve", json={"action": "burn", "note": "x"}, headers=api.operator
    )
    assert r.status_code == 422
    r = await api.http.get(REVIEWS, params={"status": "NOPE"}, headers=api.operator)
    assert (r.status_code, r.json()["code"]) == (422, "REVIEW_STATUS_UNKNOWN")


async def test_bad_dates_and_missing_reports_answer_with_the_envelope(api: ApiStack) -> None:
    missing = await api.http.get(
        "/api/v1/operator/reconciliations/2021-01-01", headers=api.operator
    )
    assert (missing.status_code, missing.json()["code"]) == (404, "REPORT_NOT_FOUND")
    for path in (
        "/api/v1/operator/reconciliations/2026-13-01",
        "/api/v1/operator/reconciliations/x",
    ):
        r = await api.http.get(path, headers=api.operator)
        assert (r.status_code, r.json()["code"]) == (422, "VALIDATION_ERROR"), r.text
    r = await api.http.get(
        "/api/v1/operator/reconciliations", params={"date": "yesterday"}, headers=api.operator
    )
    assert (r.status_code, r.json()["field"]) == (422, "date")
    for day in (today(), today() + timedelta(days=3), "2019-12-31"):
        r = await api.http.post(f"/api/v1/operator/reconciliations/{day}/run", headers=api.operator)
        assert (r.status_code, r.json()["code"]) == (422, "BILL_DATE_OUT_OF_RANGE"), r.text
