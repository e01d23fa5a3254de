"""Temporal UI's codec endpoint on its own internal listener: `python -m api.codec_server`.

In production the payer-facing app serves no /codec (api/middleware/operations.py); this small
app serves it on SHEBAO_CODEC_HOST:SHEBAO_CODEC_PORT, reachable by operators (their browser
running Temporal UI) and never through the TLS proxy. Same protocol, operator token and
throttling as before (api/routes/codec.py), plus /healthz for the container's health check.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.errors import install_error_handlers
from api.middleware.limits import BodyLimitMiddleware
from api.middleware.operations import install_codec, install_common
from api.routes import health
from observability import log_startup, setup_logging
from services.context import AppState
from services.temporal_link import TemporalLink
from services.timefmt import shanghai_today
from settings import Settings
from storage.db import sessions_or_own


def create_codec_app(
    settings: Settings,
    *,
    client: Client | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
) -> FastAPI:
    """The codec and a health route, nothing a payer could call."""
    settings.require_production_safe()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            app.state.shebao = AppState(
                settings=settings,
                # Failed operator tokens are counted in PostgreSQL, as on the public app.
                sessions=sessions_or_own(sessions, settings.resolved_database_url, stack),
                temporal=TemporalLink(settings, client),
                adapters=None,
                today=shanghai_today,
            )
            yield

    app = FastAPI(
        title="shebao codec",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware)
    app.include_router(health.router)
    install_codec(app, settings)
    install_common(app, settings)
    return app


def main() -> None:
    settings = Settings()
    settings.require_production_safe()
    setup_logging("codec", json_lines=settings.log_json)
    log_startup("codec", settings)
    uvicorn.run(
        create_codec_app(settings),
        host=settings.codec_host,
        port=settings.codec_port,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
