"""Engine and session factories, and the programmatic Alembic upgrade."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import await_only

from storage.sqlite_inline import connect_inline
from storage.write_gate import WriteGate

STORAGE_DIR = Path(__file__).resolve().parent
ALEMBIC_INI = STORAGE_DIR / "alembic.ini"
MIGRATIONS_DIR = STORAGE_DIR / "migrations"

SQLITE_BUSY_TIMEOUT_MS = 5000
# Any fixed number: the PostgreSQL advisory lock that lets one process migrate at a time.
MIGRATION_LOCK_KEY = 0x5EBA0


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for in-memory and `file:` URI databases."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def _ensure_sqlite_parent(url: str) -> None:
    if (path := _sqlite_file(url)) is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def _connect_sqlite_inline(
    dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]
) -> Any:
    """Open the URL's database (as SQLAlchemy parsed it) without aiosqlite's thread."""
    return dialect.dbapi.connect(*cargs, async_creator_fn=connect_inline, **cparams)


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


# Set in a connection's info while it holds its engine's WriteGate.
_GATED = "shebao_write_gate"


def write_gate_path(url: str) -> Path | None:
    """The file whose flock(2) is the WriteGate across processes; None for in-memory SQLite."""
    path = _sqlite_file(url)
    return None if path is None else path.with_name(path.name + ".writelock")


def _gate_sqlite_writes(sync_engine: Engine, gate: WriteGate) -> None:
    """BEGIN IMMEDIATE only through the gate; give the gate back once the transaction ends."""

    def begin(conn: Connection) -> None:
        if conn.get_execution_options().get("shebao_read_only"):
            conn.exec_driver_sql("BEGIN")
            return
        # We run inside SQLAlchemy's greenlet for this session, so waiting here suspends only
        # this transaction's task, not the event loop.
        await_only(gate.acquire())
        conn.info[_GATED] = True
        try:
            # IMMEDIATE takes the write lock up front. A deferred transaction that has read and
            # then writes after another writer committed fails at once with SQLITE_BUSY
            # (busy_timeout does not help there); taking the lock first makes writers queue.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            ended(conn.info)
            raise

    def ended(info: dict[Any, Any]) -> None:
        if info.pop(_GATED, False):
            gate.release()

    def ended_on(dbapi_connection: Any) -> None:
        try:
            info = dbapi_connection.info
        except NotImplementedError:  # the dialect's first-connect probe: never began through us
            return
        ended(info)

    # After, not before, COMMIT and ROLLBACK reach SQLite (the "commit" event fires before):
    # the next writer must not find SQLite's own lock still taken. A connection dropped
    # mid-transaction (invalidated or closed) gives the gate back too.
    dialect = sync_engine.dialect
    do_commit, do_rollback = dialect.do_commit, dialect.do_rollback

    def commit_then_release(dbapi_connection: Any) -> None:
        try:
            do_commit(dbapi_connection)
        finally:
            ended_on(dbapi_connection)

    def rollback_then_release(dbapi_connection: Any) -> None:
        try:
            do_rollback(dbapi_connection)
        finally:
            ended_on(dbapi_connection)

    dialect.do_commit = commit_then_release  # type: ignore[method-assign]
    dialect.do_rollback = rollback_then_release  # type: ignore[method-assign]

    def dropped(_dbapi_connection: Any, record: ConnectionPoolEntry | None, *_: Any) -> None:
        if record is not None:
            ended(record.info)

    def reset(dbapi_connection: Any, record: ConnectionPoolEntry | None, state: Any) -> None:
        # A connection abandoned mid-transaction (its task cancelled, or garbage-collected)
        # is terminated without a ROLLBACK through the dialect; closing it frees SQLite's lock.
        if state.terminate_only or not state.asyncio_safe:
            dropped(dbapi_connection, record)

    event.listen(sync_engine, "begin", begin)
    event.listen(sync_engine.pool, "reset", reset)
    event.listen(sync_engine.pool, "invalidate", dropped)
    event.listen(sync_engine.pool, "close", dropped)
    event.listen(sync_engine, "engine_disposed", lambda _engine: gate.close())


def make_engine(url: str, *, pre_ping: bool = True) -> AsyncEngine:
    """An async engine for a SQLite file or PostgreSQL URL, with the settings each needs.

    hide_parameters keeps bound values (ID numbers, names) out of exception messages and logs.

    pre_ping (PostgreSQL only) tests each pooled connection as it is checked out, so the first
    request after a database restart or failover does not fail on a connection the server has
    dropped. The test is three round trips (BEGIN, an empty query, ROLLBACK) per transaction.
    The worker goes without it: an activity that meets a dropped connection fails with a
    retryable error, SQLAlchemy discards the whole pool, and Temporal's retry connects afresh.
    """
    if is_sqlite(url):
        _ensure_sqlite_parent(url)
        engine = create_async_engine(url, hide_parameters=True)
        event.listen(engine.sync_engine, "do_connect", _connect_sqlite_inline)
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
        gate = WriteGate(write_gate_path(url), SQLITE_BUSY_TIMEOUT_MS / 1000)
        _gate_sqlite_writes(engine.sync_engine, gate)
        return engine
    return create_async_engine(url, pool_pre_ping=pre_ping, hide_parameters=True)


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
