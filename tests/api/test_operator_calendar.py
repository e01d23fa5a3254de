"""The operator calendar: a provisional 2027 until the official table is loaded (audited)."""

from __future__ import annotations

from sqlalchemy import delete

from storage.audit import audit_entries
from storage.models import CalendarTable
from tests.api.conftest import ApiStack

# A made-up notice for 2027: the real one is not published yet.
OFFICIAL_2027 = {
    "source": "国务院办公厅关于2027年部分节假日安排的通知（测试用）",
    "holidays": ["2027-01-01", *(f"2027-02-{d:02d}" for d in range(5, 12)), "2027-10-05"],
    "workdays": ["2027-02-20"],
}


def _days(body: dict[str, object], kind: str) -> dict[str, str]:
    days = body["days"]
    assert isinstance(days, list)
    return {day["date"]: day["source"] for day in days if day["kind"] == kind}


async def test_2027_is_provisional_with_the_lunar_festivals(api: ApiStack) -> None:
    r = await api.http.get("/api/v1/operator/calendar/2027", headers=api.operator)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["source"] == "provisional"
    assert body["workdays_known"] is False
    off = _days(body, "non_working")
    assert off["2027-02-08"] == "provisional"  # 春节
    assert off["2027-10-05"] == "provisional"  # 国庆 (observed)
    assert "2027-06-09" in off  # 端午
    assert _days(body, "working") == {}


async def test_2026_comes_from_chinese_calendar_with_its_adjusted_working_days(
    api: ApiStack,
) -> None:
    body = (await api.http.get("/api/v1/operator/calendar/2026", headers=api.operator)).json()
    assert body["source"] == "chinese-calendar"
    assert _days(body, "working")["2026-10-10"] == "chinese-calendar"
    assert _days(body, "non_working")["2026-10-07"] == "chinese-calendar"


async def test_the_official_table_replaces_the_provisional_year_and_is_audited(
    api: ApiStack,
) -> None:
    try:
        r = await api.http.put(
            "/api/v1/operator/calendar/2027", json=OFFICIAL_2027, headers=api.operator
        )
        assert r.status_code == 200, r.text
        body = (await api.http.get("/api/v1/operator/calendar/2027", headers=api.operator)).json()
        assert body["source"] == "official"
        assert body["source_detail"] == OFFICIAL_2027["source"]
        off = _days(body, "non_working")
        assert off["2027-02-08"] == "official" and off["2027-10-05"] == "official"
        # Only what the notice lists: the library's observed 2027-10-04 is gone.
        assert "2027-10-04" not in off
        assert _days(body, "working") == {"2027-02-20": "official"}
        async with api.sessions() as db:
            entries = await audit_entries(db, subject="calendar:2027")
        assert entries[0].action == "calendar.put"
        assert entries[0].detail["holidays"] == len(OFFICIAL_2027["holidays"])
    finally:
        async with api.sessions.begin() as db:
            await db.execute(delete(CalendarTable).where(CalendarTable.year == 2027))


async def test_a_table_with_dates_of_another_year_is_refused(api: ApiStack) -> None:
    bad = {**OFFICIAL_2027, "holidays": ["2026-10-01"]}
    r = await api.http.put("/api/v1/operator/calendar/2027", json=bad, headers=api.operator)
    assert (r.status_code, r.json()["code"]) == (422, "CALENDAR_TABLE_INVALID")
    clash = {**OFFICIAL_2027, "workdays": ["2027-01-01"]}
    r = await api.http.put("/api/v1/operator/calendar/2027", json=clash, headers=api.operator)
    assert (r.status_code, r.json()["code"]) == (422, "CALENDAR_TABLE_INVALID")
    r = await api.http.get("/api/v1/operator/calendar/1900", headers=api.operator)
    assert r.status_code == 422


async def test_the_calendar_routes_need_the_operator_token(api: ApiStack) -> None:
    for method in ("GET", "PUT"):
        r = await api.http.request(method, "/api/v1/operator/calendar/2027", json=OFFICIAL_2027)
        assert r.status_code == 401
