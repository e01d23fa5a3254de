"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import STORAGE_DIR, alembic_config, make_engine, upgrade_database
from storage.models import Base

REPO = STORAGE_DIR.parent


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_schema_matches_models(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_upgrading_twice_changes_nothing(db_url: str, engine: AsyncEngine) -> None:
    await upgrade_database(db_url)
    async with engine.connect() as conn:
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    # The single head of the revision chain, whichever revision that is today.
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_concurrent_upgrades_of_a_fresh_database_both_succeed(db_url: str) -> None:
    await asyncio.gather(upgrade_database(db_url), upgrade_database(db_url))
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await engine.dispose()


def _downgrade_to_base(connection: Connection) -> None:
    command.downgrade(alembic_config(connection), "base")


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_downgrade_removes_every_table_and_upgrade_restores_them(
    db_url: str, engine: AsyncEngine
) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_downgrade_to_base)
    async with engine.connect() as conn:
        assert await conn.run_sync(_table_names) <= {"alembic_version"}
    await upgrade_database(db_url)
    async with engine.connect() as conn:
        assert await conn.run_sync(_table_names) >= set(Base.metadata.tables)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(
    db_url: str, engine: AsyncEngine
) -> None:
    async with engine.connect() as conn:
        journal = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
        foreign_keys = (await conn.execute(text("PRAGMA foreign_keys"))).scalar()
        busy = (await conn.execute(text("PRAGMA busy_timeout"))).scalar()
    assert (journal, foreign_keys, busy) == ("wal", 1, 5000)


def _env_for(url: str) -> dict[str, str]:
    env = {**os.environ, "SHEBAO_DATABASE_URL": url}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def _tables_of_sqlite_file(path: Path) -> set[str]:
    import sqlite3

    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    return {row[0] for row in rows}


def test_python_m_storage_migrate_upgrades_the_configured_database(tmp_path: Path) -> None:
    db = tmp_path / "nested" / "shebao.db"
    subprocess.run(
        [sys.executable, "-m", "storage.migrate"],
        cwd=tmp_path,
        env=_env_for(f"sqlite+aiosqlite:///{db}"),
        check=True,
        timeout=60,
    )
    assert _tables_of_sqlite_file(db) >= set(Base.metadata.tables) | {"alembic_version"}


def test_alembic_cli_upgrades_the_configured_database(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    alembic = Path(sys.executable).with_name("alembic")
    subprocess.run(
        [str(alembic), "-c", str(STORAGE_DIR / "alembic.ini"), "upgrade", "head"],
        cwd=tmp_path,
        env=_env_for(f"sqlite+aiosqlite:///{db}"),
        check=True,
        timeout=60,
        capture_output=True,
    )
    assert _tables_of_sqlite_file(db) >= set(Base.metadata.tables)


async def test_make_engine_creates_the_sqlite_parent_directory(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "x.db"
    engine = make_engine(f"sqlite+aiosqlite:///{target}")
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    assert target.exists()
