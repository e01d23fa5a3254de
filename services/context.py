"""What the use cases work over for a process's lifetime: settings, database, Temporal, adapters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.seams import Adapters
from services.signed_in import SignedInCache
from services.temporal_link import TemporalLink
from settings import Settings


@dataclass
class AppState:
    """Built once by the app's lifespan (api/app.py) and handed to every service; no globals."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    temporal: TemporalLink
    adapters: Adapters | None
    today: Callable[[], date]
    # Signed-in sessions this process has seen lately (services/sign_in.py).
    signed_in: SignedInCache = field(default_factory=SignedInCache)
