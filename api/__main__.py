"""`python -m api`: serve the API with uvicorn on SHEBAO_API_HOST:SHEBAO_API_PORT."""

from __future__ import annotations

import uvicorn

from api.app import create_app
from observability import log_startup, setup_logging
from settings import Settings


def main() -> None:
    settings = Settings()
    setup_logging("api", json_lines=settings.log_json)
    log_startup("api", settings)
    # log_config=None: uvicorn keeps the masked handler installed above. Behind a proxy (compose)
    # --proxy-headers semantics make the rate limits see the real client address.
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        # Our access line (api/request_id.py) logs the route template; uvicorn's would log the
        # query string, where a records lookup carries an ID number and a name.
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


if __name__ == "__main__":
    main()
