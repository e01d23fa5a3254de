"""The purge workflow's one activity: delete what has expired (services/purge.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from services.purge import purge_expired
from workflows.contract import PurgeCounts
from workflows.contract import PurgeSteps as Steps


class PurgeActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name=Steps.PURGE_EXPIRED.name)
    async def purge_expired(self, now: datetime) -> PurgeCounts:
        return await purge_expired(self._sessions, now)

    def all(self) -> list[Callable[..., Awaitable[object]]]:
        """Every activity, for the worker's registration."""
        return [self.purge_expired]
