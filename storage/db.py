"""Engine and session factories, and the programmatic Alembic upgrade."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

STORAGE_DIR = Path(__file__).resolve().parent
ALEMBIC_INI = STORAGE_DIR / "alembic.ini"
MIGRATIONS_DIR = STORAGE_DIR / "migrations"

# Any fixed number: the PostgreSQL advisory lock that lets one process migrate at a time.
MIGRATION_LOCK_KEY = 0x5EBA0
# How long a statement may wait for a row or table lock before it fails (and its transaction
# rolls back): under contention a request answers "busy, retry" instead of hanging.
LOCK_TIMEOUT_MS = 5000
# SQLSTATEs (or their two-character classes) worth retrying: the transaction was rolled back
# and nothing was written. 08 connection exception, 40001 serialization failure, 40P01
# deadlock, 53 insufficient resources (too many connections), 55P03 lock not available,
# 57P01-57P03 the server shutting down or not yet accepting connections.
_TRANSIENT_SQLSTATES = frozenset({"08", "40001", "40P01", "53", "55P03", "57P01", "57P02", "57P03"})
# Connections an engine keeps open, and how many more it may open at a peak. An API process
# serves many requests at once and a worker runs many activities at once, each holding a
# connection while it uses the database: with SQLAlchemy's default of 5 kept, most of a busy
# process's connections were opened for one transaction and closed after it (a new PostgreSQL
# backend each time). At 30 each, ten engines fit the local server's max_connections (300).
POOL_SIZE = 20
POOL_OVERFLOW = 10


def make_engine(
    url: str,
    *,
    pre_ping: bool = True,
    pool_size: int = POOL_SIZE,
    max_overflow: int = POOL_OVERFLOW,
    durable_commits: bool = True,
) -> AsyncEngine:
    """An async engine for a PostgreSQL URL (postgresql+asyncpg://...).

    hide_parameters keeps bound values (ID numbers, names) out of exception messages and logs.

    pre_ping tests each pooled connection as it is checked out, so the first request after a
    database restart or failover does not fail on a connection the server has dropped. The
    test is three round trips (BEGIN, an empty query, ROLLBACK) per transaction.
    The worker goes without it: an activity that meets a dropped connection fails with a
    retryable error, SQLAlchemy discards the whole pool, and Temporal's retry connects afresh.

    pool_size connections are kept open; up to max_overflow more are opened when all are in
    use and closed when given back.

    durable_commits=False is for the simulators' database: they stand in for remote systems, so
    their commits need not wait for the disk (synchronous_commit off: a crash may lose their
    last moments, never corrupt them).
    """
    server_settings = {"lock_timeout": str(LOCK_TIMEOUT_MS)}
    if not durable_commits:
        server_settings["synchronous_commit"] = "off"
    return create_async_engine(
        url,
        pool_pre_ping=pre_ping,
        pool_size=pool_size,
        max_overflow=max_overflow,
        hide_parameters=True,
        connect_args={"server_settings": server_settings},
    )


def is_transient(exc: DBAPIError) -> bool:
    """True when a retry may succeed: the database was unreachable, busy or restarting.

    The transaction that failed was rolled back, so the caller may safely try again later.
    """
    if exc.connection_invalidated or isinstance(exc.orig, OSError):
        return True
    sqlstate = getattr(exc.orig, "pgcode", None) or getattr(exc.orig, "sqlstate", None)
    return isinstance(sqlstate, str) and (
        sqlstate in _TRANSIENT_SQLSTATES or sqlstate[:2] in _TRANSIENT_SQLSTATES
    )


def is_unavailable(exc: BaseException) -> bool:
    """True when the database could not be used just now: a transient error (is_transient),
    no connection at all (the driver raises the socket's own error while the server restarts),
    or no pooled connection free. Nothing was written; the caller may answer "try later"."""
    if isinstance(exc, DBAPIError):
        return is_transient(exc)
    return isinstance(exc, ConnectionError | PoolTimeoutError)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def sessions_or_own(
    given: async_sessionmaker[AsyncSession] | None, url: str, stack: AsyncExitStack
) -> async_sessionmaker[AsyncSession]:
    """The sessionmaker passed in (tests), else one over a new engine that the stack disposes."""
    if given is not None:
        return given
    engine = make_engine(url)
    stack.push_async_callback(engine.dispose)
    return make_sessionmaker(engine)


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config(str(ALEMBIC_INI))
    # Absolute, so the upgrade works whatever the current directory is.
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
        # The ini's sys.path entry is for the CLI; in-process, the packages already import.
        cfg.remove_main_option("prepend_sys_path")
    return cfg


def _upgrade_on(connection: Connection, revision: str) -> None:
    # The API and the worker may both migrate at start-up; the second waits, then finds the
    # schema at head.
    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
    command.upgrade(alembic_config(connection), revision)


async def upgrade_database(url: str, revision: str = "head") -> None:
    """Apply the Alembic migrations to the database at url."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade_on, revision)
    finally:
        await engine.dispose()
