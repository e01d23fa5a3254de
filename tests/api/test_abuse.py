"""Attacks on the identity budget and the per-address limits, tried black-box through the API.

Each app here has the default limits; every test uses its own person and its own client
addresses, so the budgets of one test never reach another.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from domain.identity import compose_resident_id
from settings import Settings
from storage.db import make_engine, make_sessionmaker
from tests.api.conftest import OPERATOR_TOKEN
from tests.pg import fresh_databases

BYPASS = "test-captcha-answer"
_numbers = itertools.count(1)
_addresses = itertools.count(1)

Client = Callable[..., httpx.AsyncClient]


@dataclass
class Apps:
    """Two API processes over one database, and a way to call either from any address."""

    first: FastAPI
    second: FastAPI
    stack: AsyncExitStack

    async def client(self, app: FastAPI | None = None, address: str = "") -> httpx.AsyncClient:
        """A client calling the app from the address, or from an address of its own."""
        n = next(_addresses)
        address = address or f"10.0.{n // 250}.{n % 250 + 1}"
        transport = httpx.ASGITransport(app=app or self.first, client=(address, 40000))
        return await self.stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://testserver")
        )


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def apps(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Apps]:
    tmp: Path = tmp_path_factory.mktemp("abuse")
    settings = Settings(
        env="test",
        data_dir=tmp,
        simulators=False,
        operator_token=OPERATOR_TOKEN,
        payer_ref_key="test-payer-ref-key",
        captcha_bypass=BYPASS,
        **fresh_databases(),
    )
    async with AsyncExitStack() as stack:
        made = []
        for _ in range(2):
            engine = make_engine(settings.resolved_database_url)
            stack.push_async_callback(engine.dispose)
            app = create_app(settings, client=dev_env.client, sessions=make_sessionmaker(engine))
            await stack.enter_async_context(app.router.lifespan_context(app))
            made.append(app)
        yield Apps(made[0], made[1], stack)


async def _person(apps: Apps, name: str = "李四") -> dict[str, str]:
    n = next(_numbers)
    number = compose_resident_id("520102", date(1980, 1 + n % 12, 1 + n % 28), 300 + n)
    body = {
        "id_type": "resident_id",
        "id_number": number,
        "name": name,
        "insurance": "pension",
        "start_month": "2026-01",
    }
    operator = await apps.client()
    r = await operator.post(
        "/api/v1/operator/registrations",
        json=body,
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    )
    assert r.status_code == 201, r.text
    return {"id_type": "resident_id", "id_number": number, "name": name}


def _wrong(trio: dict[str, str]) -> dict[str, str]:
    return {**trio, "name": "王某某"}


async def _signed_in(apps: Apps, trio: dict[str, str]) -> dict[str, str]:
    r = await (await apps.client()).post("/api/v1/session", json=trio)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def _solved(http: httpx.AsyncClient) -> dict[str, str]:
    r = await http.get("/api/v1/captcha")
    assert r.status_code == 200, r.text
    return {"captcha_id": r.json()["captcha_id"], "captcha_answer": BYPASS}


async def _fail(http: httpx.AsyncClient, trio: dict[str, str], times: int, **kw: Any) -> None:
    for _ in range(times):
        r = await http.post("/api/v1/session", json=_wrong(trio), **kw)
        assert r.status_code == 401, r.text


async def test_the_sixth_failure_asks_for_a_captcha(apps: Apps) -> None:
    victim = await _person(apps)
    attacker = await apps.client()
    await _fail(attacker, victim, 5)
    r = await attacker.post("/api/v1/session", json=_wrong(victim))
    assert r.status_code == 428
    assert r.json()["code"] == "CAPTCHA_REQUIRED" and "验证码" in r.json()["message"]


async def test_an_id_number_in_the_query_string_buys_no_fresh_budget(apps: Apps) -> None:
    victim = await _person(apps)
    attacker = await apps.client()
    for n in range(5):
        r = await attacker.post(
            "/api/v1/session", params={"id_number": f"52010219800101{n:04d}"}, json=_wrong(victim)
        )
        assert r.status_code == 401
    r = await attacker.post(
        "/api/v1/session", params={"id_number": "520102198001019999"}, json=_wrong(victim)
    )
    assert r.json()["code"] == "CAPTCHA_REQUIRED"


async def test_full_width_digits_and_a_lower_case_x_reach_the_same_budget(apps: Apps) -> None:
    victim = await _person(apps)
    attacker = await apps.client()
    full_width = victim["id_number"].translate(
        str.maketrans("0123456789X", "０１２３４５６７８９ｘ")
    )
    await _fail(attacker, {**victim, "id_number": full_width}, 3)
    await _fail(attacker, {**victim, "id_number": victim["id_number"].lower()}, 2)
    r = await attacker.post("/api/v1/session", json=_wrong(victim))
    assert r.json()["code"] == "CAPTCHA_REQUIRED"


async def test_sign_in_lookup_and_records_share_one_budget(apps: Apps) -> None:
    victim = await _person(apps)
    attacker_trio = await _person(apps, "赵五")
    attacker = await apps.client()
    auth = await _signed_in(apps, attacker_trio)
    await _fail(attacker, victim, 2)
    for _ in range(2):
        r = await attacker.post("/api/v1/payers/lookup", json=_wrong(victim), headers=auth)
        assert r.status_code == 401
    r = await attacker.post("/api/v1/records/query", json=_wrong(victim), headers=auth)
    assert r.status_code == 401
    for path in ("/api/v1/session", "/api/v1/payers/lookup", "/api/v1/records/query"):
        r = await attacker.post(path, json=victim, headers=auth)
        assert r.json()["code"] == "CAPTCHA_REQUIRED", path


async def test_two_api_processes_share_the_budget(apps: Apps) -> None:
    victim = await _person(apps)
    await _fail(await apps.client(apps.first), victim, 3)
    await _fail(await apps.client(apps.second), victim, 2)
    for app in (apps.first, apps.second):
        r = await (await apps.client(app)).post("/api/v1/session", json=_wrong(victim))
        assert r.json()["code"] == "CAPTCHA_REQUIRED"


async def test_the_real_person_is_never_locked_out(apps: Apps) -> None:
    victim = await _person(apps)
    await _fail(await apps.client(), victim, 5)
    for _ in range(5):
        r = await (await apps.client()).post("/api/v1/session", json=_wrong(victim))
        assert r.json()["code"] == "CAPTCHA_REQUIRED"
    me = await apps.client()
    r = await me.post("/api/v1/session", json=victim)
    assert r.json()["code"] == "CAPTCHA_REQUIRED"
    wrong_answer = {**(await _solved(me)), "captcha_answer": "NOPE"}
    r = await me.post("/api/v1/session", json={**victim, **wrong_answer})
    assert r.status_code == 422 and r.json()["code"] == "CAPTCHA_INVALID"
    r = await me.post("/api/v1/session", json={**victim, **(await _solved(me))})
    assert r.status_code == 200, r.text
    # The attacker's solved captcha buys one more guess, not a way in.
    attacker = await apps.client()
    r = await attacker.post("/api/v1/session", json={**_wrong(victim), **(await _solved(attacker))})
    assert r.json()["code"] == "IDENTITY_MISMATCH"


async def test_successes_spend_nothing(apps: Apps) -> None:
    me = await _person(apps)
    http = await apps.client()
    for _ in range(8):
        assert (await http.post("/api/v1/session", json=me)).status_code == 200


async def test_another_persons_identity_in_a_records_url_is_refused(apps: Apps) -> None:
    me = await _person(apps)
    other = await _person(apps, "钱六")
    http = await apps.client()
    auth = await _signed_in(apps, me)
    r = await http.get("/api/v1/records", params=other, headers=auth)
    assert r.status_code == 400 and r.json()["code"] == "IDENTITY_IN_QUERY"
    r = await http.post("/api/v1/records/query", json={**other, "from": "2026-01"}, headers=auth)
    assert r.status_code == 200 and r.json() == []


async def test_lookup_shows_no_birth_date(apps: Apps) -> None:
    me = await _person(apps)
    other = await _person(apps, "孙七")
    auth = await _signed_in(apps, me)
    r = await (await apps.client()).post("/api/v1/payers/lookup", json=other, headers=auth)
    assert r.status_code == 200
    assert "birth_date" not in r.json()["person"]
    assert "1980" not in r.text


async def test_one_address_is_limited_across_processes(apps: Apps) -> None:
    transport_of = {
        app: httpx.ASGITransport(app=app, client=("10.9.9.9", 40000))
        for app in (apps.first, apps.second)
    }
    codes = []
    for n in range(31):
        app = apps.first if n % 2 else apps.second
        async with httpx.AsyncClient(
            transport=transport_of[app], base_url="http://testserver"
        ) as http:
            body = {"id_type": "passport", "id_number": f"E{20000000 + n}", "name": "张三"}
            r = await http.post("/api/v1/session", json=body)
            codes.append(r.status_code)
    assert 429 not in codes[:30]
    assert codes[30] == 429
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert r.json()["code"] == "RATE_LIMITED"


async def test_failed_operator_tokens_are_throttled_per_address_across_processes(
    apps: Apps,
) -> None:
    path = "/api/v1/operator/reconciliations"
    first = await apps.client(apps.first, "10.8.8.8")
    second = await apps.client(apps.second, "10.8.8.8")
    for n in range(Settings().operator_failures_per_address):
        http = first if n % 2 else second
        r = await http.get(path, headers={"Authorization": f"Bearer guess-{n}"})
        assert r.json()["code"] == "OPERATOR_UNAUTHORIZED"
    # Now even the right token is refused from this address until the window ends.
    r = await first.get(path, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
    assert r.status_code == 429 and r.json()["code"] == "OPERATOR_THROTTLED"
    assert int(r.headers["retry-after"]) >= 1
    # Another address (the real operator) is not affected.
    r = await (await apps.client()).get(path, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
    assert r.status_code == 200


async def test_sign_out_ends_the_session_and_is_safe_to_repeat(apps: Apps) -> None:
    me = await _person(apps)
    auth = await _signed_in(apps, me)
    http = await apps.client()
    assert (await http.get("/api/v1/records", headers=auth)).status_code == 200
    r = await http.delete("/api/v1/session", headers=auth)
    assert r.status_code == 204
    r = await http.get("/api/v1/records", headers=auth)
    assert (r.status_code, r.json()["code"]) == (401, "UNAUTHENTICATED")
    # A process that had not seen the token does not accept it either: its row is gone.
    r = await (await apps.client(apps.second)).get("/api/v1/records", headers=auth)
    assert r.status_code == 401
    assert (await http.delete("/api/v1/session", headers=auth)).status_code == 204
    assert (await http.delete("/api/v1/session")).status_code == 204


async def test_a_sign_out_is_heard_by_a_process_that_remembered_the_session(apps: Apps) -> None:
    me = await _person(apps)
    auth = await _signed_in(apps, me)
    elsewhere = await apps.client(apps.second)
    # The second process has looked the token up, so it remembers the session.
    assert (await elsewhere.get("/api/v1/records", headers=auth)).status_code == 200
    assert (await (await apps.client()).delete("/api/v1/session", headers=auth)).status_code == 204
    # The notification arrives when the sign-out commits; wait for it, not for a time.
    deadline = asyncio.get_running_loop().time() + 20
    while (await elsewhere.get("/api/v1/records", headers=auth)).status_code == 200:
        assert asyncio.get_running_loop().time() < deadline, "the sign-out was never heard"
        await asyncio.sleep(0.05)
    r = await elsewhere.get("/api/v1/records", headers=auth)
    assert (r.status_code, r.json()["code"]) == (401, "UNAUTHENTICATED")


async def test_a_burst_of_concurrent_guesses_gets_no_more_than_the_budget(apps: Apps) -> None:
    victim = await _person(apps)
    clients = [await apps.client(apps.first if n % 2 else apps.second) for n in range(20)]
    answers = await asyncio.gather(
        *(http.post("/api/v1/session", json=_wrong(victim)) for http in clients)
    )
    codes = sorted(r.json()["code"] for r in answers)
    assert codes.count("IDENTITY_MISMATCH") == Settings().identity_failures_before_captcha
    assert set(codes) == {"IDENTITY_MISMATCH", "CAPTCHA_REQUIRED"}
