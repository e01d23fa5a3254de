"""GET /healthz: is the database reachable, is Temporal."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from api.state import State

router = APIRouter(tags=["ops"])
log = logging.getLogger("shebao.api")


class Health(BaseModel):
    status: str
    database: str
    temporal: str


@router.get("/healthz", response_model=Health)
async def healthz(state: State) -> Health:
    """Always 200: status "ok" while the database answers (reads work without Temporal)."""
    try:
        async with state.sessions() as db:
            await db.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:
        log.warning("health: database unavailable (%s)", type(exc).__name__)
        database = "unavailable"
    temporal = "ok" if await state.temporal.healthy() else "unavailable"
    return Health(
        status="ok" if database == "ok" else "degraded", database=database, temporal=temporal
    )
