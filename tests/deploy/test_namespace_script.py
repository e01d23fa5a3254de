"""deploy/temporal/namespace.sh (compose's temporal-namespace) against the real dev server:
idempotent, and loud when an attribute already exists with another type."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from tests.conftest import venv_binary
from workflows import search_attributes as sa

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "temporal" / "namespace.sh"
# compose's own arguments: every attribute of workflows/search_attributes.py.
OURS = [flag for flag in sa.cli_flags() if flag != "--search-attribute"]


async def run_script(env: WorkflowEnvironment, *args: str) -> subprocess.CompletedProcess[str]:
    cli_dir = str(Path(venv_binary("temporal")).parent)
    environ = {
        "PATH": f"{cli_dir}:{os.environ.get('PATH', '')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
    }
    return await asyncio.to_thread(
        subprocess.run,
        ["sh", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=180,
        check=False,
    )


async def test_registers_our_attributes_and_a_second_run_changes_nothing(
    dev_env: WorkflowEnvironment,
) -> None:
    namespace = f"compose-{uuid.uuid4().hex[:8]}"
    first = await run_script(dev_env, namespace, "30d", *OURS)
    assert first.returncode == 0, first.stderr
    assert f"namespace {namespace}: created" in first.stdout
    assert first.stdout.count(": created (") == len(sa.ALL_KEYS)
    again = await run_script(dev_env, namespace, "30d", *OURS)
    assert again.returncode == 0, again.stderr
    assert f"namespace {namespace}: present" in again.stdout
    assert again.stdout.count(": present (") == len(sa.ALL_KEYS)


async def test_an_attribute_of_another_type_fails_the_run(dev_env: WorkflowEnvironment) -> None:
    namespace = f"compose-{uuid.uuid4().hex[:8]}"
    done = await run_script(dev_env, namespace, "30d", "AmountFen=Keyword")
    assert done.returncode == 0, done.stderr
    wrong = await run_script(dev_env, namespace, "30d", *OURS)
    assert wrong.returncode != 0
    expected = "AmountFen exists as INDEXED_VALUE_TYPE_KEYWORD, not INDEXED_VALUE_TYPE_INT"
    assert expected in wrong.stderr
    # The others were still registered: one bad attribute is reported, not hidden behind them.
    assert wrong.stdout.count(": created (") == len(sa.ALL_KEYS) - 1


async def test_a_malformed_attribute_is_refused(dev_env: WorkflowEnvironment) -> None:
    done = await run_script(dev_env, f"compose-{uuid.uuid4().hex[:8]}", "30d", "AmountFen")
    assert done.returncode == 2
    assert "malformed" in done.stderr
