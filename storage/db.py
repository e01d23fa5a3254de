"""Engine and session factories, and the programmatic Alembic upgrade."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

STORAGE_DIR = Path(__file__).resolve().parent
ALEMBIC_INI = STORAGE_DIR / "alembic.ini"
MIGRATIONS_DIR = STORAGE_DIR / "migrations"

SQLITE_BUSY_TIMEOUT_MS = 5000
# Any fixed number: the PostgreSQL advisory lock that lets one process migrate at a time.
MIGRATION_LOCK_KEY = 0x5EBA0


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _ensure_sqlite_parent(url: str) -> None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take BEGIN away from the sqlite3 driver: in its legacy mode a SAVEPOINT opened before any
    # write is not part of the enclosing transaction, which would break reserve_months.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


# Passed as Session.connection(execution_options=...) before a read-only session's first query.
READ_ONLY: dict[str, Any] = {"shebao_read_only": True}


async def begin_read_only(session: AsyncSession) -> None:
    """Mark a session that only reads: on SQLite it begins DEFERRED instead of IMMEDIATE.

    In WAL mode a deferred reader sees a snapshot and neither waits for nor blocks writers;
    under load, reads that queued for the write lock waited seconds and then failed with
    "database is locked". A session marked so that writes anyway still works, but may get
    SQLITE_BUSY at once when another writer holds the lock.
    """
    await session.connection(execution_options=READ_ONLY)


def _on_sqlite_begin(conn: Connection) -> None:
    if conn.get_execution_options().get("shebao_read_only"):
        conn.exec_driver_sql("BEGIN")
        return
    # IMMEDIATE takes the write lock up front. A deferred transaction that has read and then
    # writes after another writer committed fails at once with SQLITE_BUSY (busy_timeout does
    # not help there); taking the lock first makes writers queue instead and serialises them.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> AsyncEngine:
    """An async engine for a SQLite file or PostgreSQL URL, with the settings each needs.

    hide_parameters keeps bound values (ID numbers, names) out of exception messages and logs.
    """
    if is_sqlite(url):
        _ensure_sqlite_parent(url)
        engine = create_async_engine(url, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
        event.listen(engine.sync_engine, "begin", _on_sqlite_begin)
        return engine
    return create_async_engine(url, pool_pre_ping=True, hide_parameters=True)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


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
    if connection.dialect.name == "postgresql":
        # The API and the worker may both migrate at start-up; the second waits, then finds the
        # schema at head. (On SQLite, BEGIN IMMEDIATE already serialises them.)
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
    command.upgrade(alembic_config(connection), revision)


async def upgrade_database(url: str, revision: str = "head") -> None:
    """Apply the Alembic migrations to the database at url (creating a SQLite file if needed)."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade_on, revision)
    finally:
        await engine.dispose()
