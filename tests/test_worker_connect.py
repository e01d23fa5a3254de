"""A worker that starts while the Temporal server is down waits for it instead of exiting."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.testing import WorkflowEnvironment

import worker
from scripts.local_postgres import free_port
from settings import Settings
from tests.conftest import venv_binary
from workflows.converter import data_converter


async def test_the_worker_connects_once_a_late_server_comes_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker, "CONNECT_RETRY_FIRST_S", 0.2)
    port = free_port()
    settings = Settings(env="test", temporal_address=f"127.0.0.1:{port}")
    # Nothing listens yet: without the retry the first attempt's error ends the worker.
    connecting = asyncio.create_task(worker.connect_when_up(settings, None))
    await asyncio.sleep(1.0)
    assert not connecting.done()
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(settings),
        dev_server_existing_path=venv_binary("temporal"),
        port=port,
        dev_server_log_level="error",
        ui=False,
    )
    async with env:
        client = await asyncio.wait_for(connecting, timeout=30)
        assert await client.service_client.check_health()


async def test_the_worker_reaches_a_cluster_named_by_envconfig_alone(
    dev_env: WorkflowEnvironment,
) -> None:
    # What an operator sets for a cluster of its own or Temporal Cloud: TEMPORAL_*, no SHEBAO_*.
    target = dev_env.client.service_client.config.target_host
    settings = Settings(
        env="test",
        temporal_client_env={"TEMPORAL_ADDRESS": target, "TEMPORAL_NAMESPACE": "default"},
    )
    client = await worker.connect_when_up(settings, None)
    assert client.service_client.config.target_host == target
    assert client.namespace == "default"
    await client.count_workflows()
