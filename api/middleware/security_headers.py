"""Security headers on every response: CSP, no sniffing, no framing, HSTS in production."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# JSON routes: nothing may load or frame them.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# The H5 pages load scripts, styles, images and fonts from this origin only. Their base template
# still has one inline script (the vocabulary) and a javascript: back link, and the simulated
# cashier inlines its page: until those move to files, these two prefixes allow 'unsafe-inline'.
PAGE_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)
# FastAPI's /docs pulls Swagger UI from a CDN.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: "
    "https://fastapi.tiangolo.com; frame-ancestors 'none'; object-src 'none'"
)
_PAGE_PREFIXES = ("/h5", "/sim/")
_DOCS_PREFIXES = ("/docs", "/redoc")


def csp_for(path: str) -> str:
    if path.startswith(_PAGE_PREFIXES):
        return PAGE_CSP
    if path.startswith(_DOCS_PREFIXES):
        return DOCS_CSP
    return API_CSP


class SecurityHeadersMiddleware:
    """Adds the headers unless a route already set its own value."""

    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.app = app
        self.production = production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        headers = {
            b"content-security-policy": csp_for(path).encode(),
            b"x-content-type-options": b"nosniff",
            b"referrer-policy": b"no-referrer",
            b"x-frame-options": b"DENY",
            b"cross-origin-opener-policy": b"same-origin",
        }
        if self.production:
            headers[b"strict-transport-security"] = b"max-age=31536000; includeSubDomains"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in headers.items() if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
