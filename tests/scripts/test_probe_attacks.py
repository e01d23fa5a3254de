"""scripts/probe_attacks.py against a real server: every attack fails, and a removed guard shows."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.__main__ import uvicorn_options
from scripts import probe_attacks
from scripts.seed import seed
from settings import Settings
from tests.deployment import app_and_worker
from tests.pg import fresh_databases
from tests.support import open_policy_all_year, served

OPERATOR_TOKEN = "probe-operator-token"
BYPASS = "probe-captcha-answer"


@asynccontextmanager
async def serving(client: Any, tmp: Path, **overrides: Any) -> AsyncIterator[str]:
    """The API on a free 127.0.0.1 port as `python -m api` serves it (proxy headers trusted
    from SHEBAO_FORWARDED_ALLOW_IPS only), with a worker, over fresh databases holding make
    dev's demo persons."""
    settings = Settings(
        env="test",
        data_dir=tmp,
        task_queue=f"probe-{uuid.uuid4().hex[:8]}",
        operator_token=OPERATOR_TOKEN,
        payer_ref_key="probe-payer-ref-key",
        captcha_bypass=BYPASS,
        **fresh_databases(),
        **overrides,
    )
    await seed(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    options = {k: v for k, v in uvicorn_options(settings).items() if k not in ("host", "port")}
    try:
        async with (
            app_and_worker(client, settings) as deployed,
            deployed.app.router.lifespan_context(deployed.app),
            served(deployed.app, sock, **options),
        ):
            async with httpx.AsyncClient(base_url=base) as http:
                await open_policy_all_year(http, OPERATOR_TOKEN)
            yield base
    finally:
        sock.close()


async def test_every_attack_fails_against_the_real_api(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with serving(dev_env.client, tmp_path) as base:
        outcomes = await probe_attacks.run(
            base, captcha_answer=BYPASS, operator_token=OPERATOR_TOKEN
        )
    assert [(o.attack, o.verdict) for o in outcomes if o.verdict != "PASS"] == []
    assert len(outcomes) == len(probe_attacks.ATTACKS) + 1
    assert probe_attacks.exit_status(outcomes) == 0


async def test_a_second_run_within_the_window_is_inconclusive_not_a_pass(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with serving(dev_env.client, tmp_path) as base:
        await probe_attacks.run(base, production=False)
        again = {o.attack: o.verdict for o in await probe_attacks.run(base, production=False)}
    assert again["POST /session?id_number=<random>: a fresh budget per try"] == "INCONCLUSIVE"
    assert "FAIL" not in again.values()


@pytest.mark.parametrize(
    ("overrides", "broken"),
    [
        # No identity budget to speak of: every attack on it works.
        (
            {"identity_failures_before_captcha": 10**6},
            {
                "POST /session?id_number=<random>: a fresh budget per try",
                "full-width digits / lower-case x: another budget",
                "sign-in, lookup and records: separate budgets",
                "strangers lock a person out",
            },
        ),
        # Forwarded headers believed from anyone, as compose once had it.
        ({"forwarded_allow_ips": "*"}, {"forged X-Forwarded-For: a fresh per-address budget"}),
        # No limits on what others do for a person, nor on operator token guesses.
        (
            {
                "quotes_per_target_per_hour": 10**6,
                "starts_per_target_per_hour": 10**6,
                "operator_failures_per_address": 10**6,
            },
            {
                "a stranger starts a person's quote in a loop",
                "a stranger quotes for a person in a loop",
                "guessing operator tokens",
            },
        ),
    ],
    ids=["no-identity-budget", "trusts-any-forwarded-for", "no-target-or-operator-limits"],
)
async def test_a_removed_guard_is_reported_as_a_fail(
    dev_env: WorkflowEnvironment, tmp_path: Path, overrides: dict[str, Any], broken: set[str]
) -> None:
    async with serving(dev_env.client, tmp_path, **overrides) as base:
        outcomes = await probe_attacks.run(base, captcha_answer=BYPASS, production=False)
    assert {o.attack for o in outcomes if o.verdict == "FAIL"} == broken
    assert probe_attacks.exit_status(outcomes) == 1


def test_production_with_make_devs_settings_is_refused() -> None:
    outcome = probe_attacks.production_refusal()
    assert outcome.verdict == "PASS", outcome
