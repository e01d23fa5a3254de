"""Health: does the database answer, does Temporal (reads work without Temporal)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import text

from services.context import AppState

log = logging.getLogger("shebao.services.health")


@dataclass(frozen=True)
class Health:
    database: bool
    temporal: bool


async def check_health(state: AppState) -> Health:
    """Never raises: a dependency that fails to answer is reported as unavailable."""
    try:
        async with state.sessions() as db:
            await db.execute(text("SELECT 1"))
        database = True
    except Exception as exc:
        log.warning("health: database unavailable (%s)", type(exc).__name__)
        database = False
    return Health(database=database, temporal=await state.temporal.healthy())
