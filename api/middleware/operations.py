"""What operations add to the app: request ids, metrics, security headers, codec."""

from __future__ import annotations

from fastapi import FastAPI

from api.middleware.codec_cors import CodecCorsMiddleware
from api.middleware.metrics import install_metrics
from api.middleware.request_id import RequestIdMiddleware
from api.middleware.security_headers import SecurityHeadersMiddleware
from api.routes import codec
from settings import Settings


def install_operations(app: FastAPI, settings: Settings) -> None:
    """Call after the other middleware: the last added runs outermost, so every response
    (errors included) gets the request id, the security headers and the codec's CORS headers.

    In production the payer-facing app serves no codec: it runs on its own internal listener
    (api/codec_server.py), out of the proxy's reach. Elsewhere (`make dev`, tests) it is here.
    """
    install_metrics(app)
    if settings.env != "production":
        install_codec(app, settings)
    install_common(app, settings)


def install_codec(app: FastAPI, settings: Settings) -> None:
    """The codec's routes, and CORS for exactly the Temporal UI's origin."""
    app.include_router(codec.router)
    app.add_middleware(CodecCorsMiddleware, origin=settings.temporal_ui_url, prefix=codec.PREFIX)


def install_common(app: FastAPI, settings: Settings) -> None:
    """Security headers and the request id, outermost (added last)."""
    app.add_middleware(SecurityHeadersMiddleware, production=settings.env == "production")
    app.add_middleware(RequestIdMiddleware)
