"""Contributions end to end: start (idempotent, update-with-start), pay, status, cancel."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from domain.vocabulary import Channel, ContributionStatus
from services.contribution_start import request_hash
from storage import idempotency
from tests.api.conftest import ApiStack
from tests.support import this_month
from workflows.contract import workflow_id

S = ContributionStatus
PAID_OR_LATER = {S.PAID, S.POSTING, S.POSTED, S.IN_TREASURY, S.COMPLETED}


def reached(*statuses: ContributionStatus) -> Any:
    wanted = {s.value for s in statuses}
    return lambda view: view["status"] in wanted


async def test_a_full_payment_goes_from_quote_to_completed(api: ApiStack) -> None:
    payer = await api.register()
    started = await api.quote_and_start(payer)
    assert started["status"] == "AWAITING_PAYMENT"
    assert started["total_fen"] == 87267
    payment = started["payment"]
    assert payment["cashier_url"] == f"http://testserver/sim/cashier/{payment['out_trade_no']}"
    assert payment["expires_at"].endswith("+08:00")

    page = await api.http.get(f"/sim/cashier/{payment['out_trade_no']}")
    assert page.status_code == 200
    assert "微信支付" in page.text and "872.67" in page.text and "零钱支付" in page.text

    paid = await api.pay(payment["out_trade_no"], method="wechat_balance")
    assert paid.status_code == 200, paid.text
    assert paid.json()["trade_state"] == "SUCCESS"

    view = await api.wait_for(payer, started["contribution_id"], reached(S.COMPLETED))
    statuses = [t["status"] for t in view["timeline"]]
    assert statuses == [
        "VERIFYING",
        "AWAITING_PAYMENT",
        "PAID",
        "POSTING",
        "POSTED",
        "IN_TREASURY",
        "COMPLETED",
    ]
    assert all(t["at"].endswith("+08:00") for t in view["timeline"])
    assert view["status_label"] == "已完成（可开具完税证明）"
    assert view["certificate_ready"] is True
    assert view["months"] == [this_month()]
    assert view["total_fen"] == 87267
    assert view["payment"]["trade_state"] == "SUCCESS"
    assert view["expected_treasury_date"] is not None
    assert view["treasury_date"] is not None
    assert view["payer"]["name_masked"] == "张*"
    assert payer.id_number not in str(view)

    # The month is paid now: neither open nor quotable again.
    options = (await api.http.get("/api/v1/payers/me/options", headers=payer.auth)).json()
    assert this_month() not in options["open_months"]
    again = await api.quote(payer)
    assert (again.status_code, again.json()["code"]) == (422, "MONTH_ALREADY_PAID")


async def test_the_same_idempotency_key_twice_gives_the_same_contribution(api: ApiStack) -> None:
    payer = await api.register()
    quote_id = (await api.quote(payer)).json()["quote_id"]
    key = uuid.uuid4().hex
    first = await api.start(payer, quote_id, key=key)
    second = await api.start(payer, quote_id, key=key)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()


async def test_the_same_key_with_another_body_is_refused(api: ApiStack) -> None:
    payer = await api.register()
    quote_id = (await api.quote(payer)).json()["quote_id"]
    key = uuid.uuid4().hex
    assert (await api.start(payer, quote_id, key=key)).status_code == 201
    r = await api.start(payer, quote_id, key=key, channel="bank_card")
    assert r.status_code == 422
    assert r.json()["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_a_start_without_idempotency_key_is_refused(api: ApiStack) -> None:
    payer = await api.register()
    quote_id = (await api.quote(payer)).json()["quote_id"]
    r = await api.http.post(
        "/api/v1/contributions",
        json={"quote_id": quote_id, "channel": "wechat_balance"},
        headers=payer.auth,
    )
    assert r.status_code == 422
    assert r.json()["code"] == "IDEMPOTENCY_KEY_REQUIRED"


async def test_an_unknown_quote_is_quote_not_found(api: ApiStack) -> None:
    payer = await api.register()
    r = await api.start(payer, "q_doesnotexist")
    assert (r.status_code, r.json()["code"]) == (404, "QUOTE_NOT_FOUND")


async def test_two_concurrent_starts_for_one_month_let_exactly_one_through(
    api: ApiStack,
) -> None:
    payer = await api.register()
    quotes = [(await api.quote(payer)).json()["quote_id"] for _ in range(2)]
    responses = await asyncio.gather(*(api.start(payer, q) for q in quotes))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 409], [r.text for r in responses]
    winner = next(r.json() for r in responses if r.status_code == 201)
    loser = next(r.json() for r in responses if r.status_code == 409)
    assert loser["code"] == "MONTH_IN_FLIGHT"
    assert loser["message"] == "该费款所属期已有正在处理的缴费"
    assert loser["contribution_id"] == winner["contribution_id"]
    # A quote asked for while the month is in flight is told who holds it, too.
    r = await api.quote(payer)
    assert (r.status_code, r.json()["code"]) == (409, "MONTH_IN_FLIGHT")
    assert r.json()["contribution_id"] == winner["contribution_id"]


async def test_cancel_before_payment_cancels_and_opens_the_month_again(api: ApiStack) -> None:
    payer = await api.register()
    started = await api.quote_and_start(payer)
    cid = started["contribution_id"]
    r = await api.http.post(f"/api/v1/contributions/{cid}/cancel", headers=payer.auth)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "CANCELLED"
    assert r.json()["status_label"] == "已取消"

    async def month_open() -> bool:
        options = await api.http.get("/api/v1/payers/me/options", headers=payer.auth)
        return this_month() in options.json()["open_months"]

    for _ in range(50):
        if await month_open():
            break
        await asyncio.sleep(0.1)
    assert await month_open()
    again = await api.http.post(f"/api/v1/contributions/{cid}/cancel", headers=payer.auth)
    assert (again.status_code, again.json()["code"]) == (409, "ALREADY_FINISHED")
    pay = await api.pay(started["payment"]["out_trade_no"])
    assert pay.status_code == 409 and pay.json()["code"] in {"ORDER_CLOSED", "ORDER_EXPIRED"}


async def test_cancel_after_payment_is_already_paid(api: ApiStack) -> None:
    payer = await api.register()
    started = await api.quote_and_start(payer)
    cid = started["contribution_id"]
    assert (await api.pay(started["payment"]["out_trade_no"])).status_code == 200
    r = await api.http.post(f"/api/v1/contributions/{cid}/cancel", headers=payer.auth)
    assert r.status_code == 409
    assert r.json() == {"code": "ALREADY_PAID", "message": "已支付，不能取消", "field": None}
    view = await api.wait_for(payer, cid, lambda v: v["status"] in {s.value for s in PAID_OR_LATER})
    assert view["payment"]["trade_state"] == "SUCCESS"


async def test_paying_twice_at_the_cashier_is_order_paid(api: ApiStack) -> None:
    payer = await api.register()
    started = await api.quote_and_start(payer)
    no = started["payment"]["out_trade_no"]
    assert (await api.pay(no, method="bank_card")).status_code == 200
    r = await api.pay(no)
    assert (r.status_code, r.json()["code"]) == (409, "ORDER_PAID")
    assert (await api.pay("SBunknown000001")).status_code == 404


async def test_listing_by_contribution_status_finds_the_workflow(api: ApiStack) -> None:
    payer = await api.register()
    cid = (await api.quote_and_start(payer))["contribution_id"]
    query = f'ContributionStatus="AWAITING_PAYMENT" AND WorkflowId="{workflow_id(cid)}"'
    found: list[str] = []
    for _ in range(50):
        found = [wf.id async for wf in api.env.client.list_workflows(query)]
        if found:
            break
        await asyncio.sleep(0.2)
    assert found == [workflow_id(cid)]
    description = await api.env.client.get_workflow_handle(found[0]).describe()
    attributes = description.typed_search_attributes
    assert payer.id_number not in str(attributes) and payer.name not in str(attributes)


async def test_only_the_payer_and_the_person_paid_for_can_read_a_contribution(
    api: ApiStack,
) -> None:
    payer = await api.register()
    stranger = await api.register("吴十")
    cid = (await api.quote_and_start(payer))["contribution_id"]
    r = await api.http.get(f"/api/v1/contributions/{cid}", headers=stranger.auth)
    assert (r.status_code, r.json()["code"]) == (404, "CONTRIBUTION_NOT_FOUND")
    r = await api.http.post(f"/api/v1/contributions/{cid}/cancel", headers=stranger.auth)
    assert r.status_code == 404


async def test_paying_for_another_person_lets_both_read_it(api: ApiStack) -> None:
    me = await api.register("郑一")
    mother = await api.register("郑二")
    q = await api.quote(me, payer_ref=mother.payer_ref)
    assert q.status_code == 201, q.text
    r = await api.start(me, q.json()["quote_id"])
    assert r.status_code == 201, r.text
    cid = r.json()["contribution_id"]
    for reader in (me, mother):
        view = await api.status(reader, cid)
        assert view["payer"]["payer_ref"] == mother.payer_ref


async def test_healthz_reports_database_and_temporal(api: ApiStack) -> None:
    r = await api.http.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok", "temporal": "ok"}


async def test_a_replay_after_a_crash_before_answering_reuses_the_first_contribution_id(
    api: ApiStack,
) -> None:
    payer = await api.register()
    quote_id = (await api.quote(payer)).json()["quote_id"]
    key = uuid.uuid4().hex
    # The first request claimed the key and died before answering.
    async with api.sessions.begin() as db:
        await idempotency.claim_key(
            db,
            key=key,
            scope="contributions",
            request_hash=request_hash(quote_id, Channel.WECHAT_BALANCE, payer.person_id),
            contribution_id="c0ffee0000000000000000aa",
            at=datetime.now(UTC),
        )
    r = await api.start(payer, quote_id, key=key)
    assert r.status_code == 201, r.text
    assert r.json()["contribution_id"] == "c0ffee0000000000000000aa"
    assert (await api.start(payer, quote_id, key=key)).json() == r.json()


async def test_concurrent_requests_with_one_key_get_one_contribution(api: ApiStack) -> None:
    payer = await api.register()
    quote_id = (await api.quote(payer)).json()["quote_id"]
    key = uuid.uuid4().hex
    responses = await asyncio.gather(*(api.start(payer, quote_id, key=key) for _ in range(3)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["contribution_id"] for r in responses}) == 1


async def test_a_late_replay_of_a_finished_contribution_reads_its_outcome(api: ApiStack) -> None:
    payer = await api.register()
    quote_id = (await api.quote(payer)).json()["quote_id"]
    key = uuid.uuid4().hex
    first = await api.start(payer, quote_id, key=key)
    cid = first.json()["contribution_id"]
    cancelled = await api.http.post(f"/api/v1/contributions/{cid}/cancel", headers=payer.auth)
    assert cancelled.status_code == 200
    await api.env.client.get_workflow_handle(workflow_id(cid)).result()
    # As if the answer had never been stored: the closed run is not started again.
    async with api.sessions.begin() as db:
        record = await idempotency.get_key(db, key)
        assert record is not None
        record.response, record.status_code = None, None
    r = await api.start(payer, quote_id, key=key)
    assert r.status_code == 201, r.text
    assert r.json()["contribution_id"] == cid
    assert r.json()["status"] == "CANCELLED"
    assert r.json()["payment"]["out_trade_no"] == first.json()["payment"]["out_trade_no"]
