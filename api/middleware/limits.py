"""Request size limit: bodies over 1 MiB are refused with 413 before any parsing."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import BodyTooLarge, error_response

MAX_BODY_BYTES = 1 << 20


class BodyLimitMiddleware:
    """413 PAYLOAD_TOO_LARGE by Content-Length; streamed bodies are cut off while read."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        refusal = None
        if declared is not None and not declared.isdigit():
            refusal = error_response(400, "BAD_REQUEST", "请求格式不正确", None)
        elif declared is not None and int(declared) > self.max_bytes:
            refusal = error_response(413, "PAYLOAD_TOO_LARGE", "请求内容过大", None)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # FastAPI chains it into a 400; api/errors.py answers 413 for it.
                    raise BodyTooLarge()
            return message

        await self.app(scope, limited_receive, send)
