"""城乡居民基本医疗保险 over HTTP: options, the quote and a payment, for oneself and for another."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import OPERATOR_TOKEN, ApiStack, Payer
from tests.support import open_resident_medical_now

MEDICAL = "resident_medical"


async def _options(api: ApiStack, payer: Payer, payer_ref: str = "me") -> dict[str, Any]:
    r = await api.http.get(
        f"/api/v1/payers/{payer_ref}/options", params={"insurance": MEDICAL}, headers=payer.auth
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _quote(api: ApiStack, payer: Payer, payer_ref: str, year: int) -> dict[str, Any]:
    r = await api.quote(payer, [f"{year}-01"], insurance=MEDICAL, payer_ref=payer_ref, grade=0)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_options_name_the_coverage_year_and_the_amount_per_person(api: ApiStack) -> None:
    year = await open_resident_medical_now(api.http, OPERATOR_TOKEN)
    payer = await api.register(insurance=MEDICAL)
    body = await _options(api, payer)
    assert body["insurance"] == MEDICAL
    assert body["open_months"] == [f"{year}-01"]
    assert (body["coverage_year"], body["amount_per_person_fen"]) == (year, 40000)
    assert (body["grades"], body["arrears"], body["prepay_months"]) == ([], [], [])
    assert body["provisional"] is True
    # Not registered for it: nothing open, and the pension options are untouched.
    pension_only = await api.register()
    assert (await _options(api, pension_only))["open_months"] == []


async def test_a_payer_pays_the_coverage_year_for_themselves_and_for_another(
    api: ApiStack,
) -> None:
    year = await open_resident_medical_now(api.http, OPERATOR_TOKEN)
    payer = await api.register("李四", insurance=MEDICAL)
    other = await api.register("王五", insurance=MEDICAL, sign_in=False)
    for payer_ref in ("me", other.payer_ref):
        quote = await _quote(api, payer, payer_ref, year)
        assert [(line["month"], line["amount_fen"]) for line in quote["lines"]] == [
            (f"{year}-01", 40000)
        ]
        assert (quote["total_fen"], quote["grade"]) == (40000, 0)
        r = await api.start(payer, quote["quote_id"])
        assert r.status_code == 201, r.text
        started = r.json()
        paid = await api.pay(started["payment"]["out_trade_no"], method="wechat_balance")
        assert paid.status_code == 200, paid.text
        view = await api.wait_for(
            payer, started["contribution_id"], lambda v: v["status"] == "COMPLETED"
        )
        assert (view["insurance"], view["months"], view["total_fen"]) == (
            MEDICAL,
            [f"{year}-01"],
            40000,
        )
    # Paid once per person and coverage year: nothing left open, a second quote is refused.
    assert (await _options(api, payer))["open_months"] == []
    r = await api.quote(payer, [f"{year}-01"], insurance=MEDICAL, grade=0)
    assert (r.status_code, r.json()["code"]) == (422, "MONTH_ALREADY_PAID")
    records = await api.http.get("/api/v1/records", headers=payer.auth)
    assert records.status_code == 200, records.text


async def test_a_month_other_than_the_coverage_years_january_is_refused(api: ApiStack) -> None:
    year = await open_resident_medical_now(api.http, OPERATOR_TOKEN)
    payer = await api.register(insurance=MEDICAL)
    r = await api.quote(payer, [f"{year}-02"], insurance=MEDICAL, grade=0)
    assert (r.status_code, r.json()["code"]) == (422, "INVALID_MONTH")
    r = await api.quote(payer, [f"{year}-01"], insurance=MEDICAL, back_payment=True, grade=0)
    assert (r.status_code, r.json()["code"]) == (422, "MONTH_NOT_OPEN")
