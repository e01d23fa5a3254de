"""What the app holds for its lifetime (settings, database, Temporal, adapters), for routes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.factory import Adapters
from services.signed_in import SignedInCache
from services.temporal_link import TemporalLink
from settings import Settings


@dataclass
class AppState:
    """Kept on app.state.shebao by the lifespan; no module-level globals."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    temporal: TemporalLink
    adapters: Adapters | None
    today: Callable[[], date]
    # Signed-in sessions this process has seen lately (api/auth.py).
    signed_in: SignedInCache = field(default_factory=SignedInCache)


# async: FastAPI runs a plain `def` dependency in the thread pool, a thread hop on every request.
async def get_state(request: Request) -> AppState:
    state = getattr(request.app.state, "shebao", None)
    if not isinstance(state, AppState):  # pragma: no cover - only outside the lifespan
        raise RuntimeError("the app is not started: run it inside its lifespan")
    return state


State = Annotated[AppState, Depends(get_state)]
