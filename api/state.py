"""The dependency that hands routes the services' context kept on app.state.shebao."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.context import AppState


# async: FastAPI runs a plain `def` dependency in the thread pool, a thread hop on every request.
async def get_state(request: Request) -> AppState:
    state = getattr(request.app.state, "shebao", None)
    if not isinstance(state, AppState):  # pragma: no cover - only outside the lifespan
        raise RuntimeError("the app is not started: run it inside its lifespan")
    return state


State = Annotated[AppState, Depends(get_state)]
