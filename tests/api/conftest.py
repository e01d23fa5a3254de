"""API fixtures: per test module fresh PostgreSQL databases, simulators, a real worker, the app."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from domain.identity import compose_resident_id
from settings import Settings
from tests.deployment import SystemsFactory, app_and_worker
from tests.pg import fresh_databases
from tests.support import app_client, open_policy_all_year, this_month, today
from wiring import Systems, build_simulators

OPERATOR_TOKEN = "test-operator-token"


@dataclass(frozen=True)
class Payer:
    """A registered test person, with the trio to sign in and the token once signed in."""

    id_type: str
    id_number: str
    name: str
    person_id: str
    payer_ref: str
    token: str = ""

    @property
    def trio(self) -> dict[str, str]:
        return {"id_type": self.id_type, "id_number": self.id_number, "name": self.name}

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class ApiStack:
    http: httpx.AsyncClient
    env: WorkflowEnvironment
    settings: Settings
    systems: Systems
    sessions: async_sessionmaker[AsyncSession]
    _sequence: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def operator(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {OPERATOR_TOKEN}"}

    async def register(
        self,
        name: str = "张三",
        *,
        start_month: str | None = None,
        sign_in: bool = True,
        insurance: str = "pension",
    ) -> Payer:
        """Register a fresh person through the operator route, then sign them in."""
        n = next(self._sequence)
        number = compose_resident_id("520102", date(1985, 1 + n % 12, 1 + n % 28), 100 + n)
        body = {
            "id_type": "resident_id",
            "id_number": number,
            "name": name,
            "insurance": insurance,
            "start_month": start_month or f"{today().year}-01",
        }
        r = await self.http.post("/api/v1/operator/registrations", json=body, headers=self.operator)
        assert r.status_code == 201, r.text
        made = r.json()
        payer = Payer("resident_id", number, name, made["person_id"], made["payer_ref"])
        if not sign_in:
            return payer
        r = await self.http.post("/api/v1/session", json=payer.trio)
        assert r.status_code == 200, r.text
        return Payer(**{**payer.__dict__, "token": r.json()["token"]})

    async def quote(
        self, payer: Payer, months: list[str] | None = None, *, grade: int = 60, **extra: Any
    ) -> httpx.Response:
        body = {
            "payer_ref": "me",
            "insurance": "pension",
            "months": months or [this_month()],
            "back_payment": False,
            "grade": grade,
            **extra,
        }
        return await self.http.post("/api/v1/quotes", json=body, headers=payer.auth)

    async def start(
        self,
        payer: Payer,
        quote_id: str,
        *,
        key: str | None = None,
        channel: str = "wechat_balance",
    ) -> httpx.Response:
        headers = {**payer.auth, "Idempotency-Key": key or uuid.uuid4().hex}
        return await self.http.post(
            "/api/v1/contributions",
            json={"quote_id": quote_id, "channel": channel},
            headers=headers,
        )

    async def quote_and_start(
        self, payer: Payer, months: list[str] | None = None
    ) -> dict[str, Any]:
        q = await self.quote(payer, months)
        assert q.status_code == 201, q.text
        r = await self.start(payer, q.json()["quote_id"])
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def status(self, payer: Payer, contribution_id: str) -> dict[str, Any]:
        r = await self.http.get(f"/api/v1/contributions/{contribution_id}", headers=payer.auth)
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def wait_for(
        self,
        payer: Payer,
        contribution_id: str,
        done: Callable[[dict[str, Any]], bool],
        timeout_s: float = 20.0,
    ) -> dict[str, Any]:
        """Poll the status route until done(view) holds."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            view = await self.status(payer, contribution_id)
            if done(view):
                return view
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"status stuck at {view['status']}: {view['timeline']}")
            await asyncio.sleep(0.2)

    async def pay(self, out_trade_no: str, **body: Any) -> httpx.Response:
        return await self.http.post(
            f"/sim/cashier/{out_trade_no}/pay", json={"outcome": "success", **body}
        )


@pytest.fixture(scope="module")
def api_settings() -> dict[str, Any]:
    """Settings a test module changes for its stack (override the fixture in the module)."""
    return {}


@pytest.fixture(scope="module")
def api_systems() -> SystemsFactory:
    """How the API and the worker each build their systems (override the fixture in the module)."""
    return build_simulators


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def api(
    dev_env: WorkflowEnvironment,
    tmp_path_factory: pytest.TempPathFactory,
    api_settings: dict[str, Any],
    api_systems: SystemsFactory,
) -> AsyncIterator[ApiStack]:
    """The app in its lifespan, a worker on a task queue of its own, fresh databases."""
    tmp: Path = tmp_path_factory.mktemp("api")
    settings = Settings(
        env="test",
        data_dir=tmp,
        **fresh_databases(),
        task_queue=f"api-{uuid.uuid4().hex[:8]}",
        operator_token=OPERATOR_TOKEN,
        payer_ref_key="test-payer-ref-key",
        # Each module signs in dozens of people from one address; tests/api/test_operations.py
        # checks the limits with their defaults on an app of its own.
        rate_limit_per_ip_per_minute=100_000,
        identity_failures_before_captcha=100_000,
        operator_failures_per_address=100_000,
        quotes_per_requester_per_hour=100_000,
        quotes_per_target_per_hour=100_000,
        starts_per_requester_per_hour=100_000,
        starts_per_target_per_hour=100_000,
        public_base_url="http://testserver",
        # Fast simulators and polling: a paid contribution reaches COMPLETED within seconds.
        sim_posting_delay_s=1,
        sim_treasury_delay_s=1,
        payment_poll_interval_s=1,
        posting_poll_interval_s=1,
        treasury_poll_interval_s=1,
        refund_poll_interval_s=1,
    ).model_copy(update=api_settings)
    async with (
        app_and_worker(dev_env.client, settings, api_systems, reconciliation=True) as deployed,
        app_client(deployed.app) as http,
    ):
        await open_policy_all_year(http, OPERATOR_TOKEN)
        yield ApiStack(
            http=http,
            env=dev_env,
            settings=settings,
            systems=deployed.systems,
            sessions=deployed.sessions,
        )
