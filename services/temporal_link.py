"""The API's Temporal client: connected at start-up, reconnected lazily if the server was down."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from temporalio.client import Client

from services.errors import unavailable
from settings import Settings
from workflows.converter import connect

log = logging.getLogger("shebao.services.temporal_link")


class TemporalLink:
    """Holds one Temporal client; routes ask for it, health checks probe it."""

    def __init__(
        self, settings: Settings, client: Client | None = None, *, retry_after_s: float = 5.0
    ) -> None:
        self._settings = settings
        self._client = client
        self._lock = asyncio.Lock()
        self._retry_after_s = retry_after_s
        self._next_attempt = 0.0
        self._failing = False

    async def connect(self) -> Client | None:
        """Connect if not connected; None while the server cannot be reached.

        After a failure, further attempts wait retry_after_s so that callers polling often
        (the simulator's notifier) neither hammer the address nor flood the log.
        """
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                loop = asyncio.get_running_loop()
                if loop.time() < self._next_attempt:
                    return None
                try:
                    self._client = await connect(self._settings)
                except Exception as exc:  # any failure to connect means "not now"
                    self._next_attempt = loop.time() + self._retry_after_s
                    if not self._failing:
                        log.warning("Temporal unreachable: %s", type(exc).__name__)
                    self._failing = True
                    return None
                if self._failing:
                    log.info("Temporal reachable again")
                self._failing = False
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
