"""Operator routes: token, registrations, triage list, manual review refusals, policies."""

from __future__ import annotations

from datetime import date

from domain.policy import PolicyBook
from storage.audit import audit_entries
from storage.policy_book import load_policy_book
from tests.api.conftest import ApiStack
from tests.support import this_month, today
from workflows.contract import ReviewAction, workflow_id

OPERATOR_ROUTES = [
    ("POST", "/api/v1/operator/registrations"),
    ("GET", "/api/v1/operator/contributions"),
    ("POST", "/api/v1/operator/contributions/abc/resolve"),
    ("PUT", "/api/v1/operator/policies/2026"),
]


async def test_operator_routes_refuse_without_the_token(api: ApiStack) -> None:
    payer = await api.register()
    for method, path in OPERATOR_ROUTES:
        for headers in ({}, {"Authorization": "Bearer wrong"}, payer.auth):
            r = await api.http.request(method, path, json={}, headers=headers)
            assert r.status_code == 401, (method, path, r.text)
            assert r.json()["code"] == "OPERATOR_UNAUTHORIZED"


async def test_registration_of_a_passport_holder_needs_birth_date_and_sex(api: ApiStack) -> None:
    body = {
        "id_type": "passport",
        "id_number": "E12345678",
        "name": "John Smith",
        "insurance": "pension",
        "start_month": f"{today().year}-01",
    }
    r = await api.http.post("/api/v1/operator/registrations", json=body, headers=api.operator)
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (
        422,
        "BIRTH_DATE_REQUIRED",
        "birth_date",
    )
    full = {**body, "birth_date": "1990-03-08", "sex": "male"}
    r = await api.http.post("/api/v1/operator/registrations", json=full, headers=api.operator)
    assert r.status_code == 201, r.text
    assert r.json()["payer_ref"].startswith("p_")
    async with api.sessions() as db:
        entries = await audit_entries(db, subject=f"person:{r.json()['person_id']}")
    assert [(e.action, e.actor) for e in entries] == [("registration.put", "operator")]
    assert "E12345678" not in str(entries[0].detail) and "JOHN" not in str(entries[0].detail)
    signed = await api.http.post(
        "/api/v1/session",
        json={"id_type": "passport", "id_number": "e12345678", "name": "john  smith"},
    )
    assert signed.status_code == 200, signed.text


async def test_registering_the_same_number_under_another_name_is_refused(api: ApiStack) -> None:
    payer = await api.register("冯一", sign_in=False)
    body = {**payer.trio, "name": "冯二", "insurance": "pension", "start_month": "2026-01"}
    r = await api.http.post("/api/v1/operator/registrations", json=body, headers=api.operator)
    assert (r.status_code, r.json()["code"]) == (409, "NAME_MISMATCH")


async def test_triage_list_filters_by_status_and_month_without_personal_data(
    api: ApiStack,
) -> None:
    payer = await api.register("陈三")
    cid = (await api.quote_and_start(payer))["contribution_id"]
    r = await api.http.get(
        "/api/v1/operator/contributions",
        params={"status": "AWAITING_PAYMENT", "month": this_month()},
        headers=api.operator,
    )
    assert r.status_code == 200, r.text
    rows = {row["contribution_id"]: row for row in r.json()}
    assert cid in rows
    assert rows[cid]["workflow_id"] == workflow_id(cid)
    assert rows[cid]["payer_ref"] == payer.payer_ref
    assert payer.id_number not in r.text and "陈三" not in r.text
    r = await api.http.get(
        "/api/v1/operator/contributions", params={"status": "COMPLETED"}, headers=api.operator
    )
    assert cid not in {row["contribution_id"] for row in r.json()}


async def test_resolve_of_a_contribution_not_in_review_is_not_in_review(api: ApiStack) -> None:
    payer = await api.register()
    cid = (await api.quote_and_start(payer))["contribution_id"]
    r = await api.http.post(
        f"/api/v1/operator/contributions/{cid}/resolve",
        json={"action": ReviewAction.MARK_REFUNDED, "note": "已线下退款"},
        headers=api.operator,
    )
    assert (r.status_code, r.json()["code"]) == (409, "NOT_IN_REVIEW")
    async with api.sessions() as db:
        entries = await audit_entries(db, subject=f"contribution:{cid}")
    assert [(e.action, e.detail["outcome"]) for e in entries] == [
        ("review.mark_refunded", "refused")
    ]
    r = await api.http.post(
        "/api/v1/operator/contributions/nope/resolve",
        json={"action": ReviewAction.MARK_REFUNDED, "note": "x"},
        headers=api.operator,
    )
    assert (r.status_code, r.json()["code"]) == (404, "CONTRIBUTION_NOT_FOUND")


async def test_a_policy_put_replaces_the_year_and_is_validated(api: ApiStack) -> None:
    year = today().year
    template = PolicyBook.from_file().for_year(2026)
    doc = template.model_copy(
        update={"year": year, "cutoff_date": date(year, 12, 31), "provisional": False}
    ).model_dump(mode="json")
    r = await api.http.put(f"/api/v1/operator/policies/{year}", json=doc, headers=api.operator)
    assert r.status_code == 200, r.text
    assert r.json()["provisional"] is False
    async with api.sessions() as db:
        entries = await audit_entries(db, subject=f"policy:pension:{year}")
    assert entries[0].action == "policy.put" and entries[0].detail["provisional"] is False
    payer = await api.register()
    options = (await api.http.get("/api/v1/payers/me/options", headers=payer.auth)).json()
    assert options["provisional"] is False

    bad = {**doc, "rate": "1.5"}
    r = await api.http.put(f"/api/v1/operator/policies/{year}", json=bad, headers=api.operator)
    assert (r.status_code, r.json()["code"]) == (422, "INVALID_POLICY")
    r = await api.http.put(f"/api/v1/operator/policies/{year + 1}", json=doc, headers=api.operator)
    assert (r.status_code, r.json()["code"]) == (422, "POLICY_YEAR_MISMATCH")
    # Leave the year provisional again for the other tests of this module.
    doc["provisional"] = True
    r = await api.http.put(f"/api/v1/operator/policies/{year}", json=doc, headers=api.operator)
    assert r.status_code == 200


async def test_a_medical_policy_put_is_kept_apart_from_the_pension_year(api: ApiStack) -> None:
    # 2033: a year no other test loads, so both kinds can be checked side by side.
    pension = (
        PolicyBook.from_file()
        .for_year(2026)
        .model_copy(update={"year": 2033, "cutoff_date": date(2033, 12, 25)})
        .model_dump(mode="json")
    )
    medical = (
        PolicyBook.from_file()
        .medical(2027)
        .model_copy(
            update={
                "year": 2033,
                "collection_start": date(2032, 9, 1),
                "collection_end": date(2032, 12, 31),
                "amount_per_person_fen": 45000,
                "provisional": False,
                "source": "test notice, 2032-08-01",
            }
        )
        .model_dump(mode="json")
    )
    for doc in (pension, medical):
        r = await api.http.put("/api/v1/operator/policies/2033", json=doc, headers=api.operator)
        assert r.status_code == 200, r.text
    assert r.json() == {
        "year": 2033,
        "insurance": "resident_medical",
        "provisional": False,
        "grades": [],
    }
    async with api.sessions() as db:
        book = await load_policy_book(db)
        entries = await audit_entries(db, subject="policy:resident_medical:2033")
    assert entries[0].detail["insurance"] == "resident_medical"
    # Neither replaced the other: each is found under its own (insurance, year).
    assert book.medical(2033).amount_per_person_fen == 45000
    assert book.for_year(2033).cutoff_date == date(2033, 12, 25)
