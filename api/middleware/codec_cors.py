"""CORS for the Temporal UI's calls to /codec: exactly one origin, preflight answered here."""

from __future__ import annotations

from fastapi import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response

_ALLOW_HEADERS = "authorization, content-type, x-namespace"


class CodecCorsMiddleware:
    """CORS for /codec only, for exactly one origin; answers the browser's preflight itself."""

    def __init__(self, app: ASGIApp, *, origin: str, prefix: str) -> None:
        self.app = app
        self.origin = origin.rstrip("/")
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not (
            path == self.prefix or path.startswith(self.prefix + "/")
        ):
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers") or []}
        origin = headers.get(b"origin", b"").decode("latin-1")
        allowed = origin == self.origin
        cors = [
            (b"access-control-allow-origin", origin.encode()),
            (b"access-control-allow-credentials", b"true"),
            (b"vary", b"Origin"),
        ]
        if scope.get("method") == "OPTIONS" and b"access-control-request-method" in headers:
            if not allowed:
                await error_response(403, "FORBIDDEN", "不允许的来源", None)(scope, receive, send)
                return
            preflight = Response(status_code=204)
            preflight.raw_headers.extend(cors)
            preflight.raw_headers.append((b"access-control-allow-methods", b"POST, OPTIONS"))
            preflight.raw_headers.append((b"access-control-allow-headers", _ALLOW_HEADERS.encode()))
            preflight.raw_headers.append((b"access-control-max-age", b"600"))
            await preflight(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if allowed and message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *cors]
            await send(message)

        await self.app(scope, receive, send_with_cors)
