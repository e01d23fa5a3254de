"""The per-address limit as a route dependency; the counting lives in services/limits.py.

The per-identity budget is not here: it needs the validated identity from the body the handler
parses, so the services that check a trio spend it (services/identity_budget.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from services.limits import per_address


def client_ip(request: Request) -> str:
    """The peer address; behind the trusted proxy, uvicorn's proxy headers make it the client's."""
    return request.client.host if request.client else "unknown"


def rate_limit(scope: str) -> Callable[[Request], Awaitable[None]]:
    """A route dependency: SHEBAO_RATE_LIMIT_PER_IP_PER_MINUTE requests per client address on
    this scope, counted in PostgreSQL across every API process (429 RATE_LIMITED, Retry-After).

    Use as `dependencies=[Depends(rate_limit("records"))]` on a route or router.
    """

    async def check(request: Request) -> None:
        await per_address(request.app.state.shebao, scope, client_ip(request))

    return check
