"""X-Request-ID in and out, the id on every log line of the request, and one access log line."""

from __future__ import annotations

import logging
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from observability import mask, request_id
from workflows.propagation import ID_SHAPE

log = logging.getLogger("shebao.access")

HEADER = "X-Request-ID"


def accepted(given: str) -> bool:
    """Whether a caller's X-Request-ID may be kept as the request's id: short and plain, and like
    no ID number, since it travels on in Temporal headers, which history keeps unencrypted."""
    return ID_SHAPE.fullmatch(given) is not None and mask(given) == given


def route_template(scope: Scope) -> str:
    """The matched route's path template (ids stay out of labels and logs), or "unmatched"."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestIdMiddleware:
    """Takes the caller's X-Request-ID or makes one; echoes it; logs method, route, status, ms."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(HEADER.lower().encode(), b"").decode("latin-1")
        rid = given if accepted(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (HEADER.encode(), rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            # The query string is never logged: callers may put anything there.
            log.info(
                "%s %s %d %.1fms",
                scope.get("method", "-"),
                route_template(scope),
                status,
                (time.perf_counter() - started) * 1000,
            )
            request_id.reset(token)
