"""GET /healthz: is the database reachable, is Temporal."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.openapi import errors
from api.state import State
from services.health import check_health

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str
    temporal: str


def _word(up: bool) -> str:
    return "ok" if up else "unavailable"


@router.get("/healthz", response_model=Health, responses=errors())
async def healthz(state: State) -> Health:
    """Always 200: status "ok" while the database answers (reads work without Temporal)."""
    found = await check_health(state)
    return Health(
        status="ok" if found.database else "degraded",
        database=_word(found.database),
        temporal=_word(found.temporal),
    )
