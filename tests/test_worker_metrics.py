"""The worker's Temporal SDK metrics are served in Prometheus format at the configured address."""

from __future__ import annotations

import httpx
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from scripts.local_postgres import free_port
from settings import Settings
from worker import sdk_runtime
from workflows.converter import data_converter


async def test_sdk_metrics_are_scrapable_after_a_call(dev_env: WorkflowEnvironment) -> None:
    address = f"127.0.0.1:{free_port()}"
    settings = Settings(env="test", worker_metrics_address=address)
    runtime = sdk_runtime(settings)
    assert runtime is not None
    client = await Client.connect(
        dev_env.client.service_client.config.target_host,
        namespace=dev_env.client.namespace,
        data_converter=data_converter(settings),
        runtime=runtime,
    )
    await client.count_workflows()
    async with httpx.AsyncClient() as http:
        r = await http.get(f"http://{address}/metrics", timeout=5)
    assert r.status_code == 200
    assert "temporal_request" in r.text


def test_an_empty_address_disables_the_sdk_metrics() -> None:
    assert sdk_runtime(Settings(env="test", worker_metrics_address="")) is None
