"""社保费申报查询: records appear at once with their status; details only for who may see them."""

from __future__ import annotations

from typing import Any

from domain.vocabulary import ContributionStatus
from tests.api.conftest import ApiStack, Payer
from tests.api.seeding import posting_contribution
from tests.support import this_month, today

S = ContributionStatus
PAID_OR_LATER = {S.PAID, S.POSTING, S.POSTED, S.IN_TREASURY, S.COMPLETED}


def completed(view: dict[str, Any]) -> bool:
    return bool(view["status"] == "COMPLETED")


async def _records(api: ApiStack, payer: Payer, **params: str) -> Any:
    r = await api.http.get("/api/v1/records", params=params, headers=payer.auth)
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_payment_is_listed_at_once_with_its_status_and_then_completed(
    api: ApiStack,
) -> None:
    payer = await api.register()
    started = await api.quote_and_start(payer)
    # Before payment the month is listed too, awaiting payment: no one-day lag.
    listed = await _records(api, payer)
    assert [(r["month"], r["status"]) for r in listed] == [(this_month(), "AWAITING_PAYMENT")]
    assert listed[0]["status_label"] == "待支付"

    await api.pay(started["payment"]["out_trade_no"])
    # The channel's notification arrives asynchronously; once the contribution says paid, the
    # record says so too.
    await api.wait_for(payer, started["contribution_id"], lambda v: v["status"] in PAID_OR_LATER)
    listed = await _records(api, payer)
    assert listed[0]["status"] in PAID_OR_LATER
    assert listed[0]["paid_at"].endswith("+08:00")

    await api.wait_for(payer, started["contribution_id"], completed)
    [record] = await _records(api, payer)
    assert record["status"] == "COMPLETED"
    assert record["amount_fen"] == 87267 and record["base_fen"] > 0
    assert record["insurance"] == "pension" and record["insurance_label"] == "企业职工基本养老保险"
    assert record["treasury_date"] is not None

    r = await api.http.get(f"/api/v1/records/{record['record_id']}", headers=payer.auth)
    assert r.status_code == 200, r.text
    details = r.json()
    assert details["payment"]["out_trade_no"] == started["payment"]["out_trade_no"]
    assert details["payment"]["transaction_id"]
    assert details["posting"]["state"] == "ACCEPTED" and details["posting"]["posting_id"]
    assert details["treasury_date"] == record["treasury_date"]
    assert details["expected_treasury_date"] is not None
    assert details["refund"] is None
    assert details["payer_name_masked"] == "张*"
    assert payer.id_number not in r.text


async def test_a_month_still_posting_is_listed_as_posting(api: ApiStack) -> None:
    payer = await api.register()
    month = f"{today().year}-02"
    await posting_contribution(api, payer, month)
    [record] = await _records(api, payer)
    assert (record["month"], record["status"], record["status_label"]) == (
        month,
        "POSTING",
        "记账中",
    )
    assert record["expected_treasury_date"] == "2099-01-05"
    assert record["treasury_date"] is None
    details = (
        await api.http.get(f"/api/v1/records/{record['record_id']}", headers=payer.auth)
    ).json()
    assert details["posting"] is None and details["treasury_date"] is None


async def test_records_default_to_this_year_and_follow_the_chosen_period(api: ApiStack) -> None:
    payer = await api.register(start_month=f"{today().year - 1}-01")
    last_year = f"{today().year - 1}-11"
    await posting_contribution(api, payer, last_year)
    assert await _records(api, payer) == []
    chosen = await _records(api, payer, **{"from": f"{today().year - 1}-01", "to": last_year})
    assert [r["month"] for r in chosen] == [last_year]


async def test_another_persons_records_need_their_matching_trio(api: ApiStack) -> None:
    me = await api.register("李四")
    other = await api.register("王五")
    month = f"{today().year}-03"
    await posting_contribution(api, other, month)

    query = "/api/v1/records/query"
    r = await api.http.post(query, json=other.trio, headers=me.auth)
    assert [record["month"] for record in r.json()] == [month]

    wrong = {**other.trio, "name": "王六"}
    r = await api.http.post(query, json=wrong, headers=me.auth)
    assert (r.status_code, r.json()["code"]) == (401, "IDENTITY_MISMATCH")
    # Only part of the trio: which part is missing is named.
    partial = {"id_type": "resident_id", "id_number": other.id_number}
    r = await api.http.post(query, json=partial, headers=me.auth)
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (422, "VALIDATION_ERROR", "name")
    bad_number = {**other.trio, "id_number": "52010219850101000X"}
    r = await api.http.post(query, json=bad_number, headers=me.auth)
    assert (r.status_code, r.json()["code"]) == (422, "INVALID_ID_NUMBER")
    # Never in the URL.
    r = await api.http.get("/api/v1/records", params=other.trio, headers=me.auth)
    assert (r.status_code, r.json()["code"]) == (400, "IDENTITY_IN_QUERY")


async def test_details_are_for_the_person_or_whoever_paid_for_them(api: ApiStack) -> None:
    payer = await api.register("赵六")
    beneficiary = await api.register("钱七")
    stranger = await api.register("孙八")
    q = await api.quote(payer, payer_ref=beneficiary.payer_ref)
    assert q.status_code == 201, q.text
    started = await api.start(payer, q.json()["quote_id"])
    assert started.status_code == 201, started.text

    [record] = await _records(api, beneficiary)
    path = f"/api/v1/records/{record['record_id']}"
    assert (await api.http.get(path, headers=beneficiary.auth)).status_code == 200
    assert (await api.http.get(path, headers=payer.auth)).status_code == 200
    r = await api.http.get(path, headers=stranger.auth)
    assert (r.status_code, r.json()["code"]) == (404, "RECORD_NOT_FOUND")
    # The payer's own list does not show the other person's month without their trio.
    assert await _records(api, payer) == []


async def test_bad_record_queries_get_the_envelope(api: ApiStack) -> None:
    payer = await api.register()
    cases: list[tuple[str, int, str, str | None]] = [
        ("/api/v1/records?from=2026-13", 422, "INVALID_MONTH", "from"),
        ("/api/v1/records?to=２０２６-01", 422, "INVALID_MONTH", "to"),
        ("/api/v1/records?from=2026-05&to=2026-04", 422, "INVALID_PERIOD", "to"),
        ("/api/v1/records?from=2000-01&to=2026-01", 422, "INVALID_PERIOD", "to"),
        ("/api/v1/records?from=" + "9" * 40, 422, "VALIDATION_ERROR", "from"),
        ("/api/v1/records/abc", 422, "VALIDATION_ERROR", "record_id"),
        ("/api/v1/records/0", 422, "VALIDATION_ERROR", "record_id"),
        ("/api/v1/records/" + "9" * 30, 422, "VALIDATION_ERROR", "record_id"),
        # Past the id column's range (a 4-byte integer): refused before the database sees it.
        (f"/api/v1/records/{2**31}", 422, "VALIDATION_ERROR", "record_id"),
        (f"/api/v1/records/{2**31 - 1}", 404, "RECORD_NOT_FOUND", "record_id"),
        ("/api/v1/records/987654321", 404, "RECORD_NOT_FOUND", "record_id"),
    ]
    for path, status, code, field in cases:
        r = await api.http.get(path, headers=payer.auth)
        body = r.json()
        assert (r.status_code, body["code"], body["field"]) == (status, code, field), path
        assert body["message"]
    r = await api.http.get("/api/v1/records")
    assert (r.status_code, r.json()["code"]) == (401, "UNAUTHENTICATED")
