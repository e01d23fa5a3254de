"""Rate limits per client IP and per targeted ID number: guessing someone's number must be slow.

In-memory sliding windows, one per API process. With N replicas a caller gets at most N times the
limit (still slow for guessing); a shared limit needs a store every replica sees (the proxy in
front, or a table) — see README "Rate limits".
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.errors import error_response
from services.errors import ServiceError

WINDOW_S = 60.0
# Keys with no hit for a window are dropped once there are this many, bounding memory.
_SWEEP_AT = 10_000


class RateLimited(ServiceError):
    """429 RATE_LIMITED; its handler adds Retry-After."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(429, "RATE_LIMITED", f"操作过于频繁，请{retry_after_s}秒后再试", None)
        self.retry_after_s = retry_after_s


@dataclass
class SlidingWindowLimiter:
    """At most `limit` hits per key within the last `window_s` seconds."""

    window_s: float = WINDOW_S
    clock: Callable[[], float] = time.monotonic
    _hits: dict[str, deque[float]] = field(default_factory=dict)

    def hit(self, key: str, limit: int) -> float:
        """Record a hit; 0 if allowed, else the seconds until the oldest hit leaves the window."""
        now = self.clock()
        if len(self._hits) >= _SWEEP_AT:
            self._sweep(now)
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        if len(hits) >= limit:
            return hits[0] + self.window_s - now
        hits.append(now)
        return 0.0

    def _sweep(self, now: float) -> None:
        for key in [k for k, h in self._hits.items() if not h or h[-1] <= now - self.window_s]:
            del self._hits[key]


def client_ip(request: Request) -> str:
    """The peer address (uvicorn --proxy-headers makes it the real client behind a proxy)."""
    return request.client.host if request.client else "unknown"


async def _target_of(request: Request) -> str | None:
    """A hash of the ID type and number in the query or JSON body (never kept in clear)."""
    given: object = dict(request.query_params)
    if "id_number" not in request.query_params and request.method in {"POST", "PUT", "PATCH"}:
        try:
            given = json.loads(await request.body() or b"null")
        except ValueError:
            return None
    if not isinstance(given, dict) or not isinstance(given.get("id_number"), str):
        return None
    number = "".join(given["id_number"].split()).upper()
    return hashlib.sha256(f"{given.get('id_type')}|{number}".encode()).hexdigest()


def rate_limit(scope: str, *, per_target: bool = False) -> Callable[[Request], Awaitable[None]]:
    """A route dependency: SHEBAO_RATE_LIMIT_PER_IP_PER_MINUTE hits per client IP on this scope,
    and with per_target also SHEBAO_RATE_LIMIT_PER_TARGET_PER_MINUTE per ID number in the body.

    Use as `dependencies=[Depends(rate_limit("records"))]` on a route or router.
    """

    async def check(request: Request) -> None:
        limiter: SlidingWindowLimiter = request.app.state.rate_limiter
        settings = request.app.state.shebao.settings
        wait = limiter.hit(
            f"{scope}|ip|{client_ip(request)}", settings.rate_limit_per_ip_per_minute
        )
        if not wait and per_target:
            target = await _target_of(request)
            if target is not None:
                wait = limiter.hit(
                    f"{scope}|target|{target}", settings.rate_limit_per_target_per_minute
                )
        if wait:
            raise RateLimited(max(1, math.ceil(wait)))

    return check


async def _on_rate_limited(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimited)
    return error_response(
        429, exc.code, exc.message, None, headers={"Retry-After": str(exc.retry_after_s)}
    )


def install_rate_limiting(app: FastAPI) -> None:
    """The app's limiter (state of this process) and the 429 handler with Retry-After."""
    app.state.rate_limiter = SlidingWindowLimiter()
    app.add_exception_handler(RateLimited, _on_rate_limited)
