"""Limits on quotes and starts: per requester, and per person others act for; the person's own
quotes and starts are never spent by strangers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import ApiStack, Payer
from tests.support import today


@pytest.fixture(scope="module")
def api_settings() -> dict[str, Any]:
    return {
        "quotes_per_requester_per_hour": 4,
        "quotes_per_target_per_hour": 2,
        "starts_per_requester_per_hour": 2,
        "starts_per_target_per_hour": 1,
    }


def _month(n: int) -> str:
    return f"{today().year}-{n:02d}"


async def _quote_for(api: ApiStack, me: Payer, other: Payer, month: str) -> Any:
    lookup = await api.http.post("/api/v1/payers/lookup", json=other.trio, headers=me.auth)
    assert lookup.status_code == 200, lookup.text
    body = {
        "payer_ref": lookup.json()["payer_ref"],
        "insurance": "pension",
        "months": [month],
        "back_payment": False,
        "grade": 60,
    }
    return await api.http.post("/api/v1/quotes", json=body, headers=me.auth)


def _refused(r: Any, code: str) -> None:
    assert r.status_code == 429, r.text
    assert r.json()["code"] == code and "频繁" in r.json()["message"]
    assert int(r.headers["retry-after"]) >= 1


async def test_quotes_are_limited_per_requester(api: ApiStack) -> None:
    me = await api.register()
    for _ in range(4):
        assert (await api.quote(me)).status_code == 201
    _refused(await api.quote(me), "TOO_MANY_QUOTES")


async def test_strangers_quoting_for_a_person_do_not_spend_the_persons_own_quotes(
    api: ApiStack,
) -> None:
    target = await api.register("周一")
    first, second = await api.register("吴二"), await api.register("郑三")
    assert (await _quote_for(api, first, target, _month(1))).status_code == 201
    assert (await _quote_for(api, second, target, _month(1))).status_code == 201
    _refused(await _quote_for(api, first, target, _month(1)), "TOO_MANY_QUOTES")
    assert (await api.quote(target)).status_code == 201


async def test_starts_are_limited_per_requester_and_per_target_before_any_order_opens(
    api: ApiStack,
) -> None:
    target = await api.register("冯四", start_month=_month(1))
    stranger = await api.register("陈五")
    q = await _quote_for(api, stranger, target, _month(1))
    assert q.status_code == 201, q.text
    assert (await api.start(stranger, q.json()["quote_id"])).status_code == 201
    # Another requester for the same person: the person's budget of others' starts is spent.
    other = await api.register("卫七")
    q3 = await _quote_for(api, other, target, _month(3))
    r = await api.start(other, q3.json()["quote_id"])
    _refused(r, "TOO_MANY_STARTS")
    # Refused before the key's answer was stored: no order was opened for it.
    assert "payment" not in r.json()
    # The person's own start is not spent by others.
    own = await api.quote(target, [_month(4)])
    assert own.status_code == 201, own.text
    assert (await api.start(target, own.json()["quote_id"])).status_code == 201


async def test_one_requester_starts_only_so_many_an_hour(api: ApiStack) -> None:
    me = await api.register("蒋八", start_month=_month(1))
    codes = []
    for n in (1, 2, 3):
        q = await api.quote(me, [_month(n)])
        assert q.status_code == 201, q.text
        codes.append((await api.start(me, q.json()["quote_id"])).status_code)
    assert codes[:2] == [201, 201]
    assert codes[2] == 429
