"""`python -m storage.migrate`: bring the configured database to the latest schema."""

from __future__ import annotations

import asyncio

from settings import Settings
from storage.db import upgrade_database


def main() -> None:
    asyncio.run(upgrade_database(Settings().resolved_database_url))


if __name__ == "__main__":
    main()
