"""`python -m api`: serve the API with uvicorn on SHEBAO_API_HOST:SHEBAO_API_PORT."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import uvicorn

from observability import log_startup, setup_logging
from process_heap import freeze_startup_heap
from settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI


def serving_app(settings: Settings) -> FastAPI:
    """The app, built in the process that serves it, with that process's start-up heap frozen."""
    from api.app import create_app

    app = create_app(settings)
    freeze_startup_heap()
    return app


def worker_app() -> FastAPI:
    """The app of one uvicorn worker process (SHEBAO_API_WORKERS > 1): uvicorn imports this
    factory in each process it spawns, so settings and logging are set up there again."""
    settings = Settings()
    setup_logging("api", json_lines=settings.log_json)
    return serving_app(settings)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How uvicorn serves the API, whatever the number of processes."""
    return {
        "host": settings.api_host,
        "port": settings.api_port,
        # None: uvicorn keeps the handler setup_logging installed (it masks personal data).
        "log_config": None,
        # Our access line (api/middleware/request_id.py) logs the route template; uvicorn's would
        # log the query string, where a records lookup carries an ID number and a name.
        "access_log": False,
        # Behind a proxy (compose) the rate limits see the real client address.
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        # uvicorn's default closes a connection idle for 5 s. A payer reading a page pauses
        # about that long, and a request sent as the server closes is lost in transit
        # (seen as transport errors by bench/api_latency.py, docs/benchmarks.md). 75 s is
        # nginx's keepalive_timeout; idle connections cost only a socket.
        "timeout_keep_alive": 75,
    }


def main() -> None:
    settings = Settings()
    # Before anything else: every problem at once, and no socket opened.
    settings.require_production_safe()
    setup_logging("api", json_lines=settings.log_json)
    log_startup("api", settings)
    options = uvicorn_options(settings)
    if settings.api_workers == 1:
        uvicorn.run(serving_app(settings), **options)
        return
    # Several processes share the listening socket; uvicorn needs an import string to spawn them.
    # The app is imported in those processes only: the supervisor stays small.
    uvicorn.run("api.__main__:worker_app", factory=True, workers=settings.api_workers, **options)


if __name__ == "__main__":
    main()
