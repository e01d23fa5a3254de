"""`python -m api`: serve the API with uvicorn on SHEBAO_API_HOST:SHEBAO_API_PORT."""

from __future__ import annotations

import logging

import uvicorn

from api.app import create_app
from settings import Settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port)


if __name__ == "__main__":
    main()
