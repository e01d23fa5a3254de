"""Sign-in (用户认证), 代他人缴费 lookup, payment options and quotes."""

from __future__ import annotations

import hashlib
from datetime import date

from fastapi import FastAPI
from sqlalchemy import select
from stdnum.iso7064 import mod_11_2

from api.app import create_app
from domain.identity import compose_resident_id
from domain.policy import PolicyBook
from storage.models import SessionRow
from tests.api.conftest import OPERATOR_TOKEN, ApiStack
from tests.support import app_client, put_policy, this_month, today


async def test_sign_in_with_a_valid_trio_returns_a_token_and_the_masked_person(
    api: ApiStack,
) -> None:
    payer = await api.register("王㛃", sign_in=False)
    r = await api.http.post("/api/v1/session", json=payer.trio)
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["token"]) >= 40
    person = body["person"]
    assert person["payer_ref"] == payer.payer_ref
    assert person["name_masked"] == "王*"
    assert person["id_number_masked"].startswith("520") and "*" in person["id_number_masked"]
    assert payer.id_number not in r.text and "王㛃" not in r.text
    assert person["registrations"] == [
        {"insurance": "pension", "start_month": f"{today().year}-01", "status": "active"}
    ]


async def test_sign_in_accepts_spaces_and_full_width_characters_in_what_was_typed(
    api: ApiStack,
) -> None:
    payer = await api.register("阿依古丽·买买提", sign_in=False)
    typed = {
        "id_type": "resident_id",
        "id_number": " " + payer.id_number[:6] + " " + payer.id_number[6:],
        "name": "阿依古丽．买买提",
    }
    r = await api.http.post("/api/v1/session", json=typed)
    assert r.status_code == 200, r.text


async def test_sign_in_with_a_wrong_name_is_identity_mismatch(api: ApiStack) -> None:
    payer = await api.register("李四", sign_in=False)
    r = await api.http.post("/api/v1/session", json={**payer.trio, "name": "李五"})
    assert r.status_code == 401
    assert r.json() == {
        "code": "IDENTITY_MISMATCH",
        "message": "证件信息与参保登记信息不一致",
        "field": None,
    }


async def test_sign_in_with_an_unknown_number_gives_the_same_answer_as_a_wrong_name(
    api: ApiStack,
) -> None:
    unknown = compose_resident_id("520102", date(1970, 2, 3), 999)
    r = await api.http.post(
        "/api/v1/session", json={"id_type": "resident_id", "id_number": unknown, "name": "李四"}
    )
    assert r.status_code == 401
    assert r.json()["code"] == "IDENTITY_MISMATCH"


async def test_sign_in_with_a_bad_check_digit_is_invalid_id_number(api: ApiStack) -> None:
    payer = await api.register("赵六", sign_in=False)
    body17 = payer.id_number[:17]
    wrong = next(d for d in "0123456789X" if d != mod_11_2.calc_check_digit(body17))
    r = await api.http.post("/api/v1/session", json={**payer.trio, "id_number": body17 + wrong})
    assert r.status_code == 422
    assert r.json()["code"] == "INVALID_ID_NUMBER"
    assert r.json()["field"] == "id_number"


async def test_sign_in_with_an_unknown_id_type_is_invalid_id_type(api: ApiStack) -> None:
    payer = await api.register("钱七", sign_in=False)
    r = await api.http.post("/api/v1/session", json={**payer.trio, "id_type": "library_card"})
    assert r.status_code == 422
    assert (r.json()["code"], r.json()["field"]) == ("INVALID_ID_TYPE", "id_type")


async def test_payer_routes_need_a_session(api: ApiStack) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"}):
        r = await api.http.get("/api/v1/payers/me/options", headers=headers)
        assert r.status_code == 401
        assert r.json()["code"] == "UNAUTHENTICATED"


async def test_options_show_open_months_and_grades_of_this_year(api: ApiStack) -> None:
    payer = await api.register()
    r = await api.http.get("/api/v1/payers/me/options", headers=payer.auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["payer_ref"] == payer.payer_ref
    assert body["policy_year"] == today().year
    assert body["provisional"] is True
    assert body["treasury_lag_business_days"] == 3
    months = [f"{today().year}-{m:02d}" for m in range(1, today().month + 1)]
    assert body["open_months"] == months
    # Arrears are the months before this one, priced at the lowest grade.
    assert [a["month"] for a in body["arrears"]] == months[:-1]
    assert all(a["amount_fen"] == 87267 for a in body["arrears"])
    grades = {g["grade"]: g for g in body["grades"]}
    assert list(grades) == [60, 70, 80, 90, 100, 150, 200, 250, 300]
    assert grades[60] == {"grade": 60, "percent": 60, "base_fen": 436335, "monthly_fen": 87267}
    assert grades[300]["monthly_fen"] == 436335


async def test_options_of_an_unknown_payer_ref_is_payer_not_found(api: ApiStack) -> None:
    payer = await api.register()
    r = await api.http.get("/api/v1/payers/p_000000000000000000000000/options", headers=payer.auth)
    assert r.status_code == 404
    assert r.json()["code"] == "PAYER_NOT_FOUND"


async def test_lookup_of_another_person_gives_their_payer_ref_for_paying_for_them(
    api: ApiStack,
) -> None:
    me = await api.register("孙八")
    mother = await api.register("周九", sign_in=False)
    r = await api.http.post("/api/v1/payers/lookup", json=mother.trio, headers=me.auth)
    assert r.status_code == 200, r.text
    assert r.json()["payer_ref"] == mother.payer_ref
    assert r.json()["person"]["name_masked"] == "周*"
    wrong = await api.http.post(
        "/api/v1/payers/lookup", json={**mother.trio, "name": "周十"}, headers=me.auth
    )
    assert wrong.status_code == 401 and wrong.json()["code"] == "IDENTITY_MISMATCH"
    options = await api.http.get(f"/api/v1/payers/{mother.payer_ref}/options", headers=me.auth)
    assert options.status_code == 200
    q = await api.quote(me, payer_ref=mother.payer_ref)
    assert q.status_code == 201, q.text
    assert q.json()["payer_ref"] == mother.payer_ref


async def test_quote_amounts_per_grade_in_fen(api: ApiStack) -> None:
    payer = await api.register()
    expected = {60: 87267, 100: 145445, 300: 436335}
    for grade, monthly in expected.items():
        r = await api.quote(payer, grade=grade)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["lines"] == [
            {
                "month": this_month(),
                "base_fen": monthly * 5,
                "rate": "0.20",
                "amount_fen": monthly,
                "interest_fen": 0,
            }
        ]
        assert body["total_fen"] == monthly
        assert body["expires_at"].endswith("+08:00")
        assert body["provisional"] is True


async def test_quote_of_several_months_totals_them(api: ApiStack) -> None:
    if today().month < 2:
        return  # only one open month in January
    payer = await api.register()
    months = [f"{today().year}-{m:02d}" for m in (1, 2)]
    r = await api.quote(payer, months, back_payment=True)
    assert r.status_code == 201, r.text
    assert r.json()["total_fen"] == 2 * 87267


async def test_quote_refuses_unknown_grades_and_months_not_open(api: ApiStack) -> None:
    payer = await api.register()
    r = await api.quote(payer, grade=65)
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (422, "GRADE_UNKNOWN", "grade")
    r = await api.quote(payer, [f"{today().year + 1}-01"])
    assert (r.status_code, r.json()["code"]) == (422, "MONTH_NOT_OPEN")
    r = await api.quote(payer, [f"{today().year - 1}-06"], back_payment=True)
    assert (r.status_code, r.json()["code"]) == (422, "MONTH_NOT_OPEN")
    r = await api.quote(payer, ["2026-13"])
    assert (r.status_code, r.json()["code"]) == (422, "INVALID_MONTH")


async def test_quote_before_the_registration_start_is_month_not_open(api: ApiStack) -> None:
    payer = await api.register(start_month=f"{today().year + 1}-01")
    r = await api.quote(payer)
    assert (r.status_code, r.json()["code"]) == (422, "MONTH_NOT_OPEN")


async def test_only_the_hash_of_the_session_token_is_stored(api: ApiStack) -> None:
    payer = await api.register()
    async with api.sessions() as db:
        rows = (await db.execute(select(SessionRow))).scalars().all()
    hashes = {row.token_hash for row in rows}
    assert hashlib.sha256(payer.token.encode()).hexdigest() in hashes
    assert payer.token not in hashes


async def test_options_follow_an_injected_today(api: ApiStack) -> None:
    year = today().year
    settings = api.settings.model_copy(update={"simulators": False})
    app = create_app(
        settings,
        client=api.env.client,
        sessions=api.sessions,
        today=lambda: date(year, 3, 15),
    )
    payer = await api.register()
    async with app_client(app) as http:
        r = await http.get("/api/v1/payers/me/options", headers=payer.auth)
    assert r.status_code == 200, r.text
    assert r.json()["open_months"] == [f"{year}-01", f"{year}-02", f"{year}-03"]
    assert [a["month"] for a in r.json()["arrears"]] == [f"{year}-01", f"{year}-02"]


def _app_on(api: ApiStack, day: date) -> FastAPI:
    settings = api.settings.model_copy(update={"simulators": False})
    return create_app(settings, client=api.env.client, sessions=api.sessions, today=lambda: day)


async def _put_policy(api: ApiStack, year: int, cutoff: date) -> None:
    template = PolicyBook.from_file().for_year(2026)
    doc = template.model_copy(
        update={"year": year, "cutoff_date": cutoff, "provisional": True}
    ).model_dump(mode="json")
    await put_policy(api.http, OPERATOR_TOKEN, doc)


async def test_options_offer_the_rest_of_the_year_ahead_priced_without_interest(
    api: ApiStack,
) -> None:
    # A year of its own (no other test uses 2031), so its policy cannot disturb other tests.
    await _put_policy(api, 2031, date(2031, 12, 20))
    payer = await api.register()
    async with app_client(_app_on(api, date(2031, 8, 10))) as http:
        r = await http.get("/api/v1/payers/me/options", headers=payer.auth)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["prepay_months"] == ["2031-09", "2031-10", "2031-11", "2031-12"]
        assert body["prepay_choices"] == {
            "month": ["2031-08"],
            "quarter": ["2031-08", "2031-09"],
            "half_year": ["2031-08", "2031-09", "2031-10", "2031-11", "2031-12"],
            "year": ["2031-08", "2031-09", "2031-10", "2031-11", "2031-12"],
        }
        assert (body["year_closed"], body["closed_notice"]) == (False, None)
        quote = {"payer_ref": "me", "insurance": "pension", "back_payment": False, "grade": 60}
        r = await http.post(
            "/api/v1/quotes",
            json={**quote, "months": body["prepay_choices"]["year"]},
            headers=payer.auth,
        )
        assert r.status_code == 201, r.text
        assert r.json()["total_fen"] == 5 * 87267
        assert all(line["interest_fen"] == 0 for line in r.json()["lines"])


async def test_after_the_cutoff_the_options_offer_nothing_and_say_where_to_go(
    api: ApiStack,
) -> None:
    await _put_policy(api, 2032, date(2032, 12, 20))
    payer = await api.register()
    quote = {"payer_ref": "me", "insurance": "pension", "grade": 60}
    async with app_client(_app_on(api, date(2032, 12, 20))) as http:
        r = await http.get("/api/v1/payers/me/options", headers=payer.auth)
        assert r.json()["open_months"][-1] == "2032-12"
        assert r.json()["year_closed"] is False
    async with app_client(_app_on(api, date(2032, 12, 21))) as http:
        r = await http.get("/api/v1/payers/me/options", headers=payer.auth)
        body = r.json()
        assert (body["open_months"], body["prepay_months"], body["arrears"]) == ([], [], [])
        assert body["year_closed"] is True
        assert body["closed_notice"] == "2032年度网上缴费已于12月20日截止，请前往办税服务厅办理"
        for months, back in ((["2032-12"], False), (["2032-03"], True)):
            r = await http.post(
                "/api/v1/quotes",
                json={**quote, "months": months, "back_payment": back},
                headers=payer.auth,
            )
            assert (r.status_code, r.json()["code"]) == (422, "YEAR_CLOSED")
