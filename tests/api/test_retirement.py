"""Retirement through the API: a woman's original age on her registration, the years counter."""

from __future__ import annotations

from datetime import date

from domain.identity import compose_resident_id
from domain.retirement import statutory_retirement_month
from domain.vocabulary import Sex
from tests.api.conftest import ApiStack
from tests.support import today

BIRTH = date(1976, 7, 1)


async def _register(api: ApiStack, sequence: int, **extra: object) -> dict[str, str]:
    body: dict[str, object] = {
        "id_type": "resident_id",
        # An even sequence makes a woman, an odd one a man.
        "id_number": compose_resident_id("520102", BIRTH, sequence),
        "name": "王芳",
        "insurance": "pension",
        "start_month": f"{today().year}-01",
        **extra,
    }
    r = await api.http.post("/api/v1/operator/registrations", json=body, headers=api.operator)
    assert r.status_code == 201, r.text
    r = await api.http.post(
        "/api/v1/session",
        json={k: body[k] for k in ("id_type", "id_number", "name")},
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def test_the_registered_original_age_decides_the_retirement_month(api: ApiStack) -> None:
    fifty = await _register(api, 802, women_original_age=50)
    options = (await api.http.get("/api/v1/payers/me/options", headers=fifty)).json()
    counter = options["contribution_years"]
    expected = statutory_retirement_month(BIRTH, Sex.FEMALE, 50)
    assert counter["retirement_month"] == str(expected) == "2027-05"
    assert (counter["months"], counter["minimum_months"]) == (0, 180)
    assert counter["short_months"] == 180
    # The records page reads the same counter.
    r = await api.http.get("/api/v1/records/contribution-years", headers=fifty)
    assert r.status_code == 200 and r.json() == counter

    # Without it, the default original age (55) applies.
    default = await _register(api, 804)
    r = await api.http.get("/api/v1/records/contribution-years", headers=default)
    assert r.json()["retirement_month"] == str(statutory_retirement_month(BIRTH, Sex.FEMALE, 55))


async def test_the_original_age_is_for_women_and_is_50_or_55(api: ApiStack) -> None:
    body = {
        "id_type": "resident_id",
        "id_number": compose_resident_id("520102", BIRTH, 801),  # a man
        "name": "王明",
        "insurance": "pension",
        "start_month": f"{today().year}-01",
        "women_original_age": 50,
    }
    r = await api.http.post("/api/v1/operator/registrations", json=body, headers=api.operator)
    assert (r.status_code, r.json()["code"]) == (422, "WOMEN_ORIGINAL_AGE_FOR_WOMEN")
    body["women_original_age"] = 52
    r = await api.http.post("/api/v1/operator/registrations", json=body, headers=api.operator)
    assert r.status_code == 422
