"""Helpers shared by the API and browser test stacks: today's date and a policy open all year."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import httpx

from domain.months import Month
from domain.policy import PolicyBook

SHANGHAI = ZoneInfo("Asia/Shanghai")


def today() -> date:
    return datetime.now(SHANGHAI).date()


def this_month() -> str:
    return str(Month.from_date(today()))


async def open_policy_all_year(http: httpx.AsyncClient, operator_token: str) -> None:
    """Tests run on whatever today is: this year's policy, open until 31 December."""
    year = today().year
    book = PolicyBook.from_file()
    template = book.get(year) or book.for_year(max(book.years()))
    doc = template.model_copy(
        update={"year": year, "cutoff_date": date(year, 12, 31), "provisional": True}
    ).model_dump(mode="json")
    r = await http.put(
        f"/api/v1/operator/policies/{year}",
        json=doc,
        headers={"Authorization": f"Bearer {operator_token}"},
    )
    assert r.status_code == 200, r.text
