"""The API's Temporal client: connected at start-up, reconnected lazily if the server was down."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from temporalio.client import Client

from api.errors import ApiError
from settings import Settings
from workflows.converter import connect

log = logging.getLogger("shebao.api")



def unavailable() -> ApiError:
    return ApiError(503, "SERVICE_UNAVAILABLE", "服务暂不可用，请稍后再试", None)


class TemporalLink:
    """Holds one Temporal client; routes ask for it, health checks probe it."""

    def __init__(self, settings: Settings, client: Client | None = None) -> None:
        self._settings = settings
        self._client = client
        self._lock = asyncio.Lock()

    async def connect(self) -> Client | None:
        """Connect if not connected; None (and a log line) when the server cannot be reached."""
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                try:
                    self._client = await connect(
                        self._settings.temporal_address, self._settings.temporal_namespace
                    )
                except Exception as exc:  # any failure to connect means "not now"
                    log.warning("Temporal unreachable: %s", type(exc).__name__)
                    return None
        return self._client

    async def client(self) -> Client:
        """The client, or 503 SERVICE_UNAVAILABLE."""
        client = await self.connect()
        if client is None:
            raise unavailable()
        return client

    @property
    def current(self) -> Client | None:
        return self._client

    async def healthy(self) -> bool:
        client = await self.connect()
        if client is None:
            return False
        try:
            return await client.service_client.check_health(timeout=timedelta(seconds=2))
        except Exception:
            return False
