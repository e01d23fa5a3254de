"""Browser fixtures: the real stack on a loopback port (Temporal, worker, uvicorn) and Chromium."""

from __future__ import annotations

import itertools
import os
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, async_playwright
from temporalio.testing import WorkflowEnvironment

from domain.identity import compose_resident_id
from settings import REPO_ROOT, Settings
from tests.deployment import app_and_worker
from tests.pg import fresh_databases
from tests.support import open_policy_all_year, served, today
from wiring import Systems

OPERATOR_TOKEN = "e2e-operator-token"
CAPTCHA_BYPASS = "e2e9"
CHROMIUM = "/usr/bin/chromium"
# Headless Debian Chromium, quiet: no sandbox (containers), no GPU, no background traffic.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 375, "height": 812}
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
# Long enough for a payment to travel PAID → COMPLETED with the 1 s simulators and polls.
FLOW_TIMEOUT_MS = 60_000


def resident_id(birth: date, sequence: int) -> str:
    """A synthetic Guiyang resident ID number with a valid MOD 11-2 check digit."""
    return compose_resident_id("520102", birth, sequence)


@dataclass(frozen=True)
class Person:
    """A registered person: the trio typed on the pages."""

    id_type: str
    id_number: str
    name: str
    payer_ref: str

    @property
    def trio(self) -> dict[str, str]:
        return {"id_type": self.id_type, "id_number": self.id_number, "name": self.name}


@dataclass
class Stack:
    """The running stack: its base URL, an HTTP client on it, and the simulators (for forcing)."""

    base_url: str
    http: httpx.AsyncClient
    settings: Settings
    systems: Systems
    _sequence: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def operator(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {OPERATOR_TOKEN}"}

    async def register(
        self, name: str, *, start_month: str | None = None, insurance: str = "pension"
    ) -> Person:
        """Register a fresh person (参保登记) through the operator route."""
        n = next(self._sequence)
        number = resident_id(date(1980 + n % 20, 1 + n % 12, 1 + n % 28), 200 + n)
        body = {
            "id_type": "resident_id",
            "id_number": number,
            "name": name,
            "insurance": insurance,
            "start_month": start_month or f"{today().year}-01",
        }
        r = await self.http.post("/api/v1/operator/registrations", json=body, headers=self.operator)
        assert r.status_code == 201, r.text
        return Person("resident_id", number, name, r.json()["payer_ref"])

    async def contributions_of(self, person: Person, month: str) -> list[dict[str, Any]]:
        """The operator's triage list for a month, narrowed to one payer."""
        r = await self.http.get(
            "/api/v1/operator/contributions", params={"month": month}, headers=self.operator
        )
        assert r.status_code == 200, r.text
        return [row for row in r.json() if row["payer_ref"] == person.payer_ref]


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """The app served by uvicorn on a free loopback port, a real worker, fresh databases."""
    tmp: Path = tmp_path_factory.mktemp("e2e")
    sock = _free_socket()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = Settings(
        env="test",
        data_dir=tmp,
        **fresh_databases(),
        task_queue=f"e2e-{uuid.uuid4().hex[:8]}",
        operator_token=OPERATOR_TOKEN,
        payer_ref_key="e2e-payer-ref-key",
        public_base_url=base_url,
        captcha_bypass=CAPTCHA_BYPASS,
        # Fast simulators and polling: a paid contribution reaches COMPLETED within seconds.
        sim_posting_delay_s=1,
        sim_treasury_delay_s=1,
        sim_refund_delay_s=1,
        sim_bank_card_refund_delay_s=1,
        payment_poll_interval_s=1,
        posting_poll_interval_s=1,
        treasury_poll_interval_s=1,
        refund_poll_interval_s=1,
    )
    # The lifespan is entered here (as in production's), so uvicorn runs without its own.
    try:
        async with app_and_worker(dev_env.client, settings) as deployed:
            app = deployed.app
            async with (
                app.router.lifespan_context(app),
                served(app, sock, log_level="warning"),
                httpx.AsyncClient(base_url=base_url, timeout=30) as http,
            ):
                await open_policy_all_year(http, OPERATOR_TOKEN)
                yield Stack(base_url, http, settings, deployed.systems)
    finally:
        sock.close()


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium; no browser is ever downloaded (never `playwright install`)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (see .ci/run)")
    return CHROMIUM


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser(chromium: str) -> AsyncIterator[Browser]:
    """Chromium driven by Playwright, headless and quiet."""
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser, stack: Stack) -> AsyncIterator[Page]:
    """A fresh phone-sized tab (its own sessionStorage) on the stack's base URL."""
    context: BrowserContext = await browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",  # the pages' "this year" is the payer's, as in Guizhou
        base_url=stack.base_url,
        accept_downloads=True,
    )
    context.set_default_timeout(15_000)
    tab = await context.new_page()
    try:
        yield tab
    finally:
        await context.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """docs/screenshots when SHEBAO_SCREENSHOTS=1 (to refresh the committed PNGs), else tmp."""
    if os.environ.get("SHEBAO_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")


@dataclass(frozen=True)
class Shooter:
    directory: Path

    async def __call__(self, page: Page, name: str) -> Path:
        """A 375x812 screenshot of what the payer sees now."""
        path = self.directory / f"{name}.png"
        await page.screenshot(path=str(path), full_page=False)
        return path


@pytest.fixture
def shoot(screenshot_dir: Path) -> Shooter:
    return Shooter(screenshot_dir)
