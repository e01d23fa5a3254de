"""A second app over the stack's database whose Temporal link never connects: reads that
succeed through it come from storage alone, as they must with the worker (or Temporal) away."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from temporalio.client import Client

from api.app import create_app
from services.context import AppState
from services.temporal_link import TemporalLink
from tests.api.conftest import ApiStack
from tests.support import app_client


class NoTemporal(TemporalLink):
    """A link to a Temporal server that is never there."""

    async def connect(self) -> Client | None:
        return None


@asynccontextmanager
async def without_temporal(api: ApiStack) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        api.settings, client=api.env.client, sessions=api.sessions, systems=api.systems
    )
    async with app_client(app) as http:
        state = app.state.shebao
        assert isinstance(state, AppState)
        state.temporal = NoTemporal(api.settings)
        yield http
